package discovery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits of the generic element decoder, against hostile servers. Sizes are
// limited separately by the byte budget of each stream.
const (
	maxDepth = 32    // nesting of elements below the decoded one
	maxNodes = 20000 // elements in one decoded element
)

const nsXML = "http://www.w3.org/XML/1998/namespace"

// node is a generic XML element: enough structure for every reply the
// prober reads, without trusting the sender to follow any schema.
type node struct {
	Name     xml.Name
	Attr     []xml.Attr
	Text     string // character data directly inside the element
	Children []*node
}

// attr returns the value of the attribute with the local name (in no
// namespace, or the xml namespace for "lang").
func (n *node) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Name.Local != local {
			continue
		}
		if a.Name.Space == "" || (local == "lang" && a.Name.Space == nsXML) {
			return a.Value
		}
	}
	return ""
}

// child returns the first child with the namespace and local name; an empty
// namespace matches any.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			return c
		}
	}
	return nil
}

// children returns all children with the namespace and local name.
func (n *node) children(space, local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			out = append(out, c)
		}
	}
	return out
}

// text returns the trimmed character data.
func (n *node) text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// is reports whether the element has the namespace and local name.
func (n *node) is(space, local string) bool {
	return n != nil && n.Name.Space == space && n.Name.Local == local
}

var errXMLLimits = fmt.Errorf("%w: XML nested too deeply or too many elements", ErrProtocol)

// decodeNode reads the element that start opened, up to and including its
// end tag, into a node tree.
func decodeNode(d *xml.Decoder, start xml.StartElement) (*node, error) {
	root := &node{Name: start.Name, Attr: start.Attr}
	stack := []*node{root}
	count := 1
	for len(stack) > 0 {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if len(stack) > maxDepth || count > maxNodes {
				return nil, errXMLLimits
			}
			c := &node{Name: t.Name, Attr: t.Copy().Attr}
			top.Children = append(top.Children, c)
			stack = append(stack, c)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			// Keep text only where it is small enough to matter; the
			// byte budget bounds the total anyway.
			if len(top.Text) < 64<<10 {
				top.Text += string(t)
			}
		}
	}
	return root, nil
}

// parseElement decodes the first element of b. It is the entry point for
// tests and fuzzing of the parsers that read server replies.
func parseElement(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("discovery: no element")
			}
			return nil, err
		}
		if s, ok := tok.(xml.StartElement); ok {
			return decodeNode(d, s)
		}
	}
}
