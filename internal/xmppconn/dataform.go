package xmppconn

import (
	"fmt"
	"strconv"
	"strings"
)

// Namespaces of data forms.
const (
	NSData  = "jabber:x:data"
	NSMedia = "urn:xmpp:media-element" // XEP-0221
)

// DataForm is a XEP-0004 data form as the server sent it, before any
// meaning is given to it: register reads registration forms from it,
// discovery the extension forms of disco#info (XEP-0128).
type DataForm struct {
	Type         string // the form's type attribute: "form", "result", …
	FormType     string // the first value of the FORM_TYPE field, trimmed
	Title        string
	Instructions []string // each <instructions/>, trimmed, empty ones left out
	Fields       []DataField
}

// DataField is one <field/> of a data form.
type DataField struct {
	Var, Type, Label string
	Desc             string // trimmed
	Required         bool
	Values           []string // as sent
	Options          []DataOption
	Media            []DataMedia // the URIs of a XEP-0221 media element
	HasMedia         bool        // a media element is there (with URIs or not)
}

// DataOption is an <option/> of a list field.
type DataOption struct{ Label, Value string }

// DataMedia is one <uri/> of a XEP-0221 media element, with the
// element's width and height (0 when absent or not a positive integer
// up to 65535).
type DataMedia struct {
	Type, URI     string // trimmed
	Width, Height int
}

// DataLimits bound a data form: at most Fields fields and Values values,
// options or media URIs per field. Beyond them ParseDataForm fails with a
// *LimitError, or, with Truncate, keeps the first ones.
type DataLimits struct {
	Fields, Values int
	Truncate       bool
}

// ParseDataForm reads the data form x (a jabber:x:data <x/>), the one
// reader of XEP-0004 forms in the module.
func ParseDataForm(x *Element, lim DataLimits) (*DataForm, error) {
	d := &DataForm{Type: x.Get("type")}
	for _, k := range x.Children {
		if k.Name.Space != NSData {
			continue
		}
		switch k.Name.Local {
		case "title":
			d.Title = strings.TrimSpace(k.Text)
		case "instructions":
			if s := strings.TrimSpace(k.Text); s != "" {
				d.Instructions = append(d.Instructions, s)
			}
		case "field":
			if len(d.Fields) >= lim.Fields {
				if lim.Truncate {
					continue
				}
				return nil, &LimitError{What: fmt.Sprintf("more than %d form fields", lim.Fields)}
			}
			fl, err := parseDataField(k, lim)
			if err != nil {
				return nil, err
			}
			if fl.Var == "FORM_TYPE" && d.FormType == "" && len(fl.Values) > 0 {
				d.FormType = strings.TrimSpace(fl.Values[0])
			}
			d.Fields = append(d.Fields, fl)
		}
	}
	return d, nil
}

func parseDataField(k *Element, lim DataLimits) (DataField, error) {
	fl := DataField{Var: k.Get("var"), Type: k.Get("type"), Label: k.Get("label")}
	full := func(n int, what string) (bool, error) {
		if n < lim.Values {
			return false, nil
		}
		if lim.Truncate {
			return true, nil
		}
		return true, &LimitError{What: fmt.Sprintf("more than %d %s in field %q", lim.Values, what, Clip(fl.Var, 64))}
	}
	for _, c := range k.Children {
		switch {
		case c.Is(NSData, "desc"):
			fl.Desc = strings.TrimSpace(c.Text)
		case c.Is(NSData, "required"):
			fl.Required = true
		case c.Is(NSData, "value"):
			if skip, err := full(len(fl.Values), "values"); skip {
				if err != nil {
					return fl, err
				}
				continue
			}
			fl.Values = append(fl.Values, c.Text)
		case c.Is(NSData, "option"):
			if skip, err := full(len(fl.Options), "options"); skip {
				if err != nil {
					return fl, err
				}
				continue
			}
			o := DataOption{Label: c.Get("label")}
			if v := c.Child(NSData, "value"); v != nil {
				o.Value = v.Text
			}
			fl.Options = append(fl.Options, o)
		case c.Is(NSMedia, "media"):
			fl.HasMedia = true
			w, h := dimension(c.Get("width")), dimension(c.Get("height"))
			for _, u := range c.Children {
				if !u.Is(NSMedia, "uri") || len(fl.Media) >= lim.Values {
					continue
				}
				fl.Media = append(fl.Media, DataMedia{Type: strings.TrimSpace(u.Get("type")), URI: strings.TrimSpace(u.Text), Width: w, Height: h})
			}
		}
	}
	return fl, nil
}

// dimension reads a XEP-0221 width or height: a positive integer (at
// most 65535), else 0.
func dimension(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}
