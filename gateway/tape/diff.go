package tape

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/core/event"
)

// maxDiffs bounds the differences a divergence lists: the first ones
// say what changed; the rest mostly follow from them.
const maxDiffs = 6

// Diff lists how now differs from rec, field by field: the API, model,
// stream flag and tools, then the first system part and the first
// message that differ (down to the part, where both prints keep parts),
// and the number of messages. Equal prints give none.
func Diff(rec, now *event.RequestPrint) []event.FieldDiff {
	var out []event.FieldDiff
	add := func(field, r, n string) {
		if len(out) < maxDiffs {
			out = append(out, event.FieldDiff{Field: field, Recorded: r, Now: n})
		}
	}
	if rec.API != now.API {
		add("api", rec.API, now.API)
	}
	if rec.Model != now.Model {
		add("model", strconv.Quote(rec.Model), strconv.Quote(now.Model))
	}
	if rec.Stream != now.Stream {
		add("stream", strconv.FormatBool(rec.Stream), strconv.FormatBool(now.Stream))
	}
	if !slices.Equal(rec.Tools, now.Tools) {
		r, n := toolsDiff(rec.Tools, now.Tools)
		add("tools", r, n)
	}
	for i := range max(len(rec.System), len(now.System)) {
		if f, r, n, ok := messageDiff("system", i, rec.System, now.System); !ok {
			add(f, r, n)
			break
		}
	}
	if len(rec.Messages) != len(now.Messages) {
		add("messages", fmt.Sprintf("%d messages", len(rec.Messages)), fmt.Sprintf("%d messages", len(now.Messages)))
	}
	for i := range max(len(rec.Messages), len(now.Messages)) {
		if f, r, n, ok := messageDiff("messages", i, rec.Messages, now.Messages); !ok {
			add(f, r, n)
			break
		}
	}
	if len(out) == 0 && rec.Digest != now.Digest {
		// Prints from different builds of the normaliser, say.
		add("digest", rec.Digest, now.Digest)
	}
	return out
}

// toolsDiff says which tools only one side has, or, when both have the
// same tools, both orders.
func toolsDiff(rec, now []string) (string, string) {
	only := func(a, b []string) []string {
		var out []string
		for _, t := range a {
			if !slices.Contains(b, t) {
				out = append(out, t)
			}
		}
		return out
	}
	r, n := only(rec, now), only(now, rec)
	if len(r) == 0 && len(n) == 0 {
		return "in the order " + strings.Join(rec, ", "), "in the order " + strings.Join(now, ", ")
	}
	list := func(ts []string) string {
		if len(ts) == 0 {
			return "nothing the other lacks"
		}
		return "only " + strings.Join(ts, ", ")
	}
	return fmt.Sprintf("%d tools, %s", len(rec), list(r)), fmt.Sprintf("%d tools, %s", len(now), list(n))
}

// messageDiff compares the i-th print of two lists: ok when they are
// the same, else the field and both sides.
func messageDiff(list string, i int, rec, now []event.MessagePrint) (field, r, n string, ok bool) {
	field = fmt.Sprintf("%s[%d]", list, i)
	switch {
	case i >= len(rec):
		return field, "(none)", describe(&now[i]), false
	case i >= len(now):
		return field, describe(&rec[i]), "(none)", false
	}
	a, b := &rec[i], &now[i]
	if a.Role == b.Role && a.Digest == b.Digest {
		return "", "", "", true
	}
	if a.Role != b.Role {
		return field, "role " + a.Role + ": " + describe(a), "role " + b.Role + ": " + describe(b), false
	}
	field += " (" + a.Role + ")"
	if a.Parts == nil || b.Parts == nil {
		return field, describe(a), describe(b), false
	}
	for j := range max(len(a.Parts), len(b.Parts)) {
		pf := fmt.Sprintf("%s part %d", field, j)
		switch {
		case j >= len(a.Parts):
			return pf, "(none)", describePart(&b.Parts[j]), false
		case j >= len(b.Parts):
			return pf, describePart(&a.Parts[j]), "(none)", false
		}
		pa, pb := &a.Parts[j], &b.Parts[j]
		if pa.Type != pb.Type || pa.Digest != pb.Digest {
			if pa.Type == pb.Type {
				pf += " (" + pa.Type + ")"
			}
			return pf, describePart(pa), describePart(pb), false
		}
	}
	return field, describe(a), describe(b), false
}

// describe says what a message print holds: its parts' excerpts, or its
// digest and length when the recording kept no parts.
func describe(m *event.MessagePrint) string {
	if m.Parts == nil {
		return fmt.Sprintf("%d bytes, digest %s (older messages keep no excerpt)", m.Bytes, m.Digest)
	}
	var ps []string
	for i := range m.Parts {
		ps = append(ps, describePart(&m.Parts[i]))
	}
	return fmt.Sprintf("%d part(s): %s", len(m.Parts), strings.Join(ps, "; "))
}

func describePart(p *event.PartPrint) string {
	s := p.Type + " " + strconv.Quote(p.Excerpt)
	if len(p.Excerpt) < p.Bytes {
		s += fmt.Sprintf("… (%d bytes)", p.Bytes)
	}
	return s
}

// Summary describes a request print in a line: its model and its last
// message.
func Summary(rp *event.RequestPrint) string {
	s := fmt.Sprintf("%s %s, %d message(s)", rp.API, strconv.Quote(rp.Model), len(rp.Messages))
	if n := len(rp.Messages); n > 0 {
		s += ", the last " + describe(&rp.Messages[n-1])
	}
	return s
}
