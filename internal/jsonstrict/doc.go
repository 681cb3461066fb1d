// Package jsonstrict is the module's one strict reader of JSON from the
// network: provider lists (package providers), provider files (package
// providerfile) and whatever else reads a document an untrusted server
// sent. It checks more than encoding/json does and cuts documents up
// without decoding them, so that each caller decodes the values it knows
// with its own rules and reports the problems as its own.
//
// # What it refuses
//
// Every function applies the same rules, and every refusal is an [*Error]
// with a kind, matched with errors.Is, and the byte offset where it was
// found:
//
//   - [ErrSyntax]: anything that is not JSON, or is truncated;
//   - [ErrUTF8]: a string holding bytes that are not UTF-8 (encoding/json
//     silently replaces them with U+FFFD);
//   - [ErrDuplicateKey]: an object naming a key twice ([ParseObject];
//     parsers disagree on which value counts, so a check could pass on
//     one value and a consumer use the other);
//   - [ErrTrailingData]: anything but white space after the value;
//   - [ErrTooDeep]: arrays and objects nested deeper than [MaxDepth];
//   - [ErrTooLarge]: input over the cap given to [ReadAll];
//   - [ErrWrongKind]: valid JSON of another kind than asked for.
//
// An Error's message names the kind, the offset and what was expected; it
// never quotes the input, except the key of a duplicate (with %q).
//
// # How to read a document
//
// Read the input with a cap, then cut it:
//
//	data, err := jsonstrict.ReadAll(resp.Body, 1<<20)
//	if err != nil {
//		return err // errors.Is(err, jsonstrict.ErrTooLarge) over the cap
//	}
//	obj, err := jsonstrict.ParseObject(data)
//	if err != nil {
//		var e *jsonstrict.Error
//		errors.As(err, &e) // e.Kind, e.Offset, e.Key
//		return err
//	}
//	for _, k := range obj.Keys {
//		raw, _ := obj.Get(k) // valid JSON, not decoded
//		...
//	}
//
// [ParseObject] refuses duplicate keys; [Members] keeps them, in input
// order, for a validator that reports a duplicate against its key and goes
// on. [EachElement] and [EachMember] hand out one value at a time, so that
// a caller meets the problems of a document in input order, syntax and
// its own alike. The values they hand out are already checked: decode a
// string with [String], and name a value in a message with [KindOf] or
// [Describe], which say what it is without quoting it.
//
// Numbers are checked against the JSON grammar but left as text: callers
// parse them with strconv to their own range, so that 1e400 or
// 99999999999999999999 is an error of the caller's choosing rather than a
// silently rounded float.
//
// The scanner is fuzzed against encoding/json (FuzzParseObject, FuzzValid):
// on the inputs both accept they see the same keys and values, and it
// accepts nothing that encoding/json rejects.
package jsonstrict
