package i18n

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Message is words for a user not yet put in a language: a catalogue key
// and its arguments. An argument may be a Message or Words, put in the
// same language. As an error it reads in English, for logs and the CLI;
// stored as JSON it is read back whole, to be said in either language.
type Message struct {
	Key  string `json:"key"`
	Args []any  `json:"args,omitempty"`
}

// Words are coded values to say in words: l.Value(Kind, Values).
type Words struct {
	Kind   string   `json:"kind"`
	Values []string `json:"values"`
}

// Msg is the message of key with its arguments.
func Msg(key string, args ...any) Message { return Message{Key: key, Args: args} }

func (m Message) Error() string { return m.In(EN) }

// In says the message in language l.
func (m Message) In(l Lang) string {
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		args[i] = l.arg(a)
	}
	return l.F(m.Key, args...)
}

func (l Lang) arg(a any) any {
	switch x := a.(type) {
	case Message:
		return x.In(l)
	case Words:
		return l.Value(x.Kind, x.Values)
	case float64: // a number read back from JSON
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any: // a Message or Words read back from JSON
		b, _ := json.Marshal(x)
		if _, ok := x["key"]; ok {
			var m Message
			if json.Unmarshal(b, &m) == nil {
				return m.In(l)
			}
		}
		if _, ok := x["kind"]; ok {
			var w Words
			if json.Unmarshal(b, &w) == nil {
				return l.Value(w.Kind, w.Values)
			}
		}
	}
	return a
}

// Problem is what is wrong with one field: its column and the message.
type Problem struct {
	Col string  `json:"col"`
	Msg Message `json:"msg"`
}

// Problems are what is wrong with a row. As an error they read in
// English, "column: message; column: message".
type Problems []Problem

func (p Problems) Error() string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = x.Col + ": " + x.Msg.Error()
	}
	return strings.Join(parts, "; ")
}

// In says the problems in language l, each column by label(col).
func (p Problems) In(l Lang, label func(col string) string) string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = label(x.Col) + l.T("col_sep") + x.Msg.In(l)
	}
	return strings.Join(parts, l.T("problem_sep"))
}

// Elided is the message of key with every value it would quote left out
// ("…"): a kind of problem, apart from the rows that have it.
func (l Lang) Elided(key string) string {
	n := len(verb.FindAllString(l.T(key), -1))
	args := make([]any, n)
	for i := range args {
		args[i] = elided{}
	}
	return l.F(key, args...)
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// elided prints as "…" whatever the verb.
type elided struct{}

func (elided) Format(f fmt.State, _ rune) { f.Write([]byte("…")) }
