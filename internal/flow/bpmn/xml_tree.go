package bpmn

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// node is a namespace-resolved XML element. A small tree is simpler than
// struct tags here because every vendor puts its attributes elsewhere.
type node struct {
	space, local string
	attrs        []xml.Attr
	children     []*node
	text         string
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = charsetReader
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("nesting deeper than %d", maxDepth)
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// attr returns the value of an attribute without namespace (BPMN's own
// attributes are unqualified) or in the BPMN namespace.
func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == nsBPMN) {
			return a.Value
		}
	}
	return ""
}

// hasAttr reports whether the unqualified attribute is present.
func (n *node) hasAttr(local string) bool {
	for _, a := range n.attrs {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == nsBPMN) {
			return true
		}
	}
	return false
}

// vattr returns a vendor attribute from the first of spaces that has it.
func (n *node) vattr(local string, spaces ...string) string {
	for _, s := range spaces {
		for _, a := range n.attrs {
			if a.Name.Local == local && a.Name.Space == s {
				return a.Value
			}
		}
	}
	return ""
}

// child returns the first BPMN child with the local name, or nil.
func (n *node) child(local string) *node {
	for _, c := range n.children {
		if c.local == local && c.space == nsBPMN {
			return c
		}
	}
	return nil
}

// extensions returns the children of extensionElements in the given
// namespaces.
func (n *node) extensions(spaces ...string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.local != "extensionElements" || c.space != nsBPMN {
			continue
		}
		for _, x := range c.children {
			for _, s := range spaces {
				if x.space == s {
					out = append(out, x)
				}
			}
		}
	}
	return out
}

// extension returns the first extension element with the local name in one
// of spaces, or nil.
func (n *node) extension(local string, spaces ...string) *node {
	for _, x := range n.extensions(spaces...) {
		if x.local == local {
			return x
		}
	}
	return nil
}

func (n *node) trimmedText() string { return strings.TrimSpace(n.text) }

// charsetReader accepts the single-byte encodings older modelers declare
// (several MIWG files say ISO-8859-1); UTF-8 needs no reader.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252":
		data, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		runes := make([]rune, len(data))
		for i, c := range data {
			runes[i] = rune(c)
		}
		return strings.NewReader(string(runes)), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", charset)
}
