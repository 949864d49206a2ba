package expr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a lexical token of the source expression.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokNumber
	tokString
	tokIdent
	tokOp
)

type token struct {
	kind tokenKind
	text string // for tokString: the unquoted value
	pos  int
}

// lex splits src into tokens. It accepts the union of JUEL and FEEL lexical
// forms so one parser serves both dialects.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		r, w := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += w
		case r >= '0' && r <= '9' || r == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := lexNumber(src, i)
			toks = append(toks, token{tokNumber, src[i:j], i})
			i = j
		case r == '\'' || r == '"':
			s, j, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, s, i})
			i = j
		case isIdentStart(r):
			j := lexIdent(src, i)
			toks = append(toks, token{tokIdent, src[i:j], i})
			i = j
		default:
			op := lexOp(src[i:])
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q at %d", r, i)
			}
			toks = append(toks, token{tokOp, op, i})
			i += len(op)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(src)}), nil
}

func isIdentStart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || unicode.IsDigit(r)
}

// lexIdent also swallows a namespace prefix written without spaces
// ("bpmn:getDataObject") because XPath-style MIWG conditions use it; a
// ternary's ':' is always surrounded by operands, never glued to letters on
// both sides in the inputs we accept.
func lexIdent(src string, i int) int {
	j := i
	for j < len(src) {
		r, w := utf8.DecodeRuneInString(src[j:])
		if isIdentPart(r) {
			j += w
			continue
		}
		if r == ':' && j+1 < len(src) && strings.HasPrefix(src[i:j], "bpmn") {
			j += w
			continue
		}
		break
	}
	return j
}

func lexNumber(src string, i int) int {
	j := i
	seenDot, seenExp := false, false
	for j < len(src) {
		c := src[j]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !seenDot && !seenExp:
			seenDot = true
		case (c == 'e' || c == 'E') && !seenExp:
			seenExp = true
			if j+1 < len(src) && (src[j+1] == '+' || src[j+1] == '-') {
				j++
			}
		default:
			return j
		}
		j++
	}
	return j
}

func lexString(src string, i int) (string, int, error) {
	quote := src[i]
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch {
		case c == '\\' && j+1 < len(src):
			b.WriteByte(src[j+1])
			j += 2
		case c == quote:
			return b.String(), j + 1, nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, fmt.Errorf("unterminated string at %d", i)
}

var operators = []string{"&&", "||", "==", "!=", "<=", ">=", "<>", "!", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", ".", "?", ":"}

func lexOp(s string) string {
	for _, op := range operators {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}
