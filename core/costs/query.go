package costs

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dim is a dimension a query groups or filters by.
type Dim struct {
	kind dimKind
	tag  string // for kind dimTag
}

type dimKind uint8

const (
	dimAgent dimKind = iota + 1
	dimTeam
	dimUser
	dimModel
	dimProvider
	dimAPI
	dimTag
	dimKey
	dimSession
	dimDecision
	dimHour
	dimDay
)

var dimNames = map[string]dimKind{
	"agent": dimAgent, "team": dimTeam, "user": dimUser, "model": dimModel, "provider": dimProvider, "api": dimAPI,
	"key": dimKey, "session": dimSession, "decision": dimDecision, "hour": dimHour, "day": dimDay,
}

// DimNames lists the dimensions, for help texts: tag:NAME groups by the
// value of tag NAME.
const DimNames = "agent, team, user, key, tag:NAME, model, provider, api, session, decision, hour, day"

// String is the dimension's name as ParseDim takes it.
func (d Dim) String() string {
	if d.kind == dimTag {
		return "tag:" + d.tag
	}
	for n, k := range dimNames {
		if k == d.kind {
			return n
		}
	}
	return "?"
}

// table is the smallest table that has the dimension: 2 fine, 1
// coarse, 0 summary.
func (d Dim) table() int {
	switch d.kind {
	case dimKey, dimSession, dimDecision:
		return 2
	case dimUser, dimTag:
		return 1
	}
	return 0
}

// ParseDim parses one dimension name.
func ParseDim(s string) (Dim, error) {
	s = strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(s, "tag:"); ok {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return Dim{}, fmt.Errorf("%q names no tag: write tag:NAME, e.g. tag:env", s)
		}
		if name == "session" || name == "turn" {
			return Dim{}, fmt.Errorf("the %s tag is its own dimension: use %s", name, map[string]string{"session": "session", "turn": "decision"}[name])
		}
		return Dim{kind: dimTag, tag: name}, nil
	}
	if k, ok := dimNames[s]; ok {
		return Dim{kind: k}, nil
	}
	return Dim{}, fmt.Errorf("%q is not a cost dimension: use one of %s", s, DimNames)
}

// ParseBy parses a comma-separated list of dimensions, such as
// "agent,model" or "day,tag:env".
func ParseBy(s string) ([]Dim, error) {
	var ds []Dim
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		d, err := ParseDim(part)
		if err != nil {
			return nil, err
		}
		if slices.Contains(ds, d) {
			return nil, fmt.Errorf("%s is given twice in %q", d, s)
		}
		ds = append(ds, d)
	}
	if len(ds) > maxBy {
		return nil, fmt.Errorf("%q groups by %d dimensions: the most is %d", s, len(ds), maxBy)
	}
	return ds, nil
}

// Filter keeps the calls whose dimension has the value.
type Filter struct {
	Dim   Dim
	Value string
}

// ParseFilter parses "DIM=VALUE", such as "agent=reviewer" or
// "tag:env=prod".
func ParseFilter(s string) (Filter, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return Filter{}, fmt.Errorf("filter %q has no '=': write DIM=VALUE, e.g. agent=reviewer", s)
	}
	d, err := ParseDim(name)
	if err != nil {
		return Filter{}, err
	}
	if d.kind == dimHour || d.kind == dimDay {
		return Filter{}, fmt.Errorf("filter %q: choose a time range with since and until instead", s)
	}
	return Filter{Dim: d, Value: value}, nil
}

// Query asks for totals over [Since, Until), grouped by By (none: one
// row) and restricted by Where (all must hold). Times are rounded down
// to the hour, the read model's resolution. Zero times are open ends.
type Query struct {
	By    []Dim
	Where []Filter
	Since time.Time
	Until time.Time
}

const maxBy = 8

// Row is one group's totals. Group holds the values of the query's By
// dimensions, in order.
type Row struct {
	Group []string
	totals
}

// Report is the answer to a query: rows by cost, highest first (ties by
// group), and their sum.
type Report struct {
	By    []Dim
	Since time.Time
	Until time.Time
	Rows  []Row
	Total Row
	// Scanned is how many rows of the read model the query read, and
	// Table which table ("summary", "coarse" or "fine").
	Scanned int
	Table   string
}

type groupKey [maxBy]uint32

// grouper finds a row's group. Up to two dimensions pack into a uint64
// map key, which hashes several times faster than a groupKey.
type grouper struct {
	small map[uint64]int
	large map[groupKey]int
}

func (ev *eval) grouper() *grouper {
	if len(ev.by) <= 2 {
		return &grouper{small: map[uint64]int{}}
	}
	return &grouper{large: map[groupKey]int{}}
}

// find returns the index of k's group, or next and false when the group
// is new (find has then recorded it at next).
func (g *grouper) find(ev *eval, k *fineKey, next int) (int, bool) {
	gk := ev.group(k)
	if g.small != nil {
		sk := uint64(gk[0])<<32 | uint64(gk[1])
		if i, ok := g.small[sk]; ok {
			return i, true
		}
		g.small[sk] = next
		return next, false
	}
	if i, ok := g.large[gk]; ok {
		return i, true
	}
	g.large[gk] = next
	return next, false
}

// Query runs q.
func (m *Model) Query(q Query) (*Report, error) {
	if len(q.By) > maxBy {
		return nil, fmt.Errorf("a query groups by at most %d dimensions", maxBy)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, fmt.Errorf("until (%s) is not after since (%s)", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	from, to := int32(-1<<31), int32(1<<31-1)
	if !q.Since.IsZero() {
		from = hourOf(q.Since)
	}
	if !q.Until.IsZero() {
		to = hourOf(q.Until.Add(time.Hour - time.Nanosecond)) // an until inside an hour keeps that hour
	}
	tbl := 0
	for _, d := range q.By {
		tbl = max(tbl, d.table())
	}
	for _, f := range q.Where {
		tbl = max(tbl, f.Dim.table())
	}

	m.mu.RLock()
	defer m.mu.RUnlock()
	ev := m.newEval(q)
	rep := &Report{By: q.By, Since: q.Since, Until: q.Until, Table: []string{"summary", "coarse", "fine"}[tbl]}
	if ev.none {
		return rep, nil
	}
	var rows []Row
	grp := ev.grouper()
	add := func(k *fineKey, v *totals) {
		if k.hour < from || k.hour >= to || !ev.match(k) {
			return
		}
		i, ok := grp.find(ev, k, len(rows))
		if !ok {
			rows = append(rows, Row{Group: ev.values(ev.group(k))})
		}
		rows[i].add(v)
	}
	switch tbl {
	case 2:
		if id, ok := ev.sessionID(); ok {
			for _, r := range m.sessionRows[id] {
				row := m.fine.row(r)
				add(&row.key, &row.val)
			}
			rep.Scanned = len(m.sessionRows[id])
			break
		}
		m.fine.rowsIn(from, to, func(rs []int32) {
			for _, r := range rs {
				row := m.fine.row(r)
				add(&row.key, &row.val)
			}
			rep.Scanned += len(rs)
		})
	case 1:
		var k fineKey
		m.coarse.rowsIn(from, to, func(rs []int32) {
			for _, r := range rs {
				row := m.coarse.row(r)
				k.coarseKey = row.key
				add(&k, &row.val)
			}
			rep.Scanned += len(rs)
		})
	default:
		var k fineKey
		m.summary.rowsIn(from, to, func(rs []int32) {
			for _, r := range rs {
				row := m.summary.row(r)
				k.summaryKey = row.key
				add(&k, &row.val)
			}
			rep.Scanned += len(rs)
		})
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.totals[tCost], a.totals[tCost]), slices.Compare(a.Group, b.Group))
	})
	for i := range rows {
		rep.Total.add(&rows[i].totals)
	}
	rep.Rows = rows
	return rep, nil
}

// eval is a query resolved against the model's interned strings.
type eval struct {
	m     *Model
	by    []Dim
	where []resolved
	none  bool // a filter names a value never seen: nothing matches
	// tagVals maps (by dimension, tag set id) to the tag's value in that
	// set; valueIDs interns the values of tag and time dimensions for
	// the group key, strs holds them back.
	tagVals  []map[uint32]uint32
	valueIDs map[string]uint32
	strs     []string
}

type resolved struct {
	kind dimKind
	id   uint32
	sets map[uint32]bool // tag filters: the tag sets that match
}

func (m *Model) newEval(q Query) *eval {
	ev := &eval{m: m, by: q.By, valueIDs: map[string]uint32{}}
	for _, f := range q.Where {
		r := resolved{kind: f.Dim.kind}
		if f.Dim.kind == dimTag {
			r.sets = map[uint32]bool{}
			for _, id := range m.tagSets {
				if v, ok := tagValue(m.strs[id], f.Dim.tag); ok && v == f.Value {
					r.sets[id] = true
				}
			}
			if f.Value == "" {
				r.sets[0] = true // no tags at all: the tag is empty
			}
		} else {
			id, ok := m.ids[f.Value]
			if !ok {
				ev.none = true
			}
			r.id = id
		}
		ev.where = append(ev.where, r)
	}
	ev.tagVals = make([]map[uint32]uint32, len(q.By))
	for i, d := range q.By {
		if d.kind == dimTag {
			ev.tagVals[i] = map[uint32]uint32{}
		}
	}
	return ev
}

// sessionID returns the session a query is restricted to, if any.
func (ev *eval) sessionID() (uint32, bool) {
	for _, r := range ev.where {
		if r.kind == dimSession {
			return r.id, true
		}
	}
	return 0, false
}

func field(k *fineKey, kind dimKind) uint32 {
	switch kind {
	case dimAgent:
		return k.agent
	case dimTeam:
		return k.team
	case dimUser:
		return k.user
	case dimModel:
		return k.model
	case dimProvider:
		return k.provider
	case dimAPI:
		return k.api
	case dimKey:
		return k.key
	case dimSession:
		return k.session
	case dimDecision:
		return k.decision
	case dimHour:
		return uint32(k.hour)
	case dimDay:
		return uint32(floorDiv(k.hour, 24))
	}
	return 0
}

func (ev *eval) match(k *fineKey) bool {
	for _, r := range ev.where {
		if r.kind == dimTag {
			if !r.sets[k.tags] {
				return false
			}
		} else if field(k, r.kind) != r.id {
			return false
		}
	}
	return true
}

func (ev *eval) group(k *fineKey) groupKey {
	var g groupKey
	for i, d := range ev.by {
		if d.kind == dimTag {
			vals := ev.tagVals[i]
			id, ok := vals[k.tags]
			if !ok {
				v, _ := tagValue(ev.m.strs[k.tags], d.tag)
				id = ev.valueID(v)
				vals[k.tags] = id
			}
			g[i] = id
			continue
		}
		g[i] = field(k, d.kind)
	}
	return g
}

// valueID interns a tag value for the group key.
func (ev *eval) valueID(v string) uint32 {
	id, ok := ev.valueIDs[v]
	if !ok {
		id = uint32(len(ev.strs))
		ev.valueIDs[v] = id
		ev.strs = append(ev.strs, v)
	}
	return id
}

// values turns a group key back into strings.
func (ev *eval) values(g groupKey) []string {
	out := make([]string, len(ev.by))
	for i, d := range ev.by {
		switch d.kind {
		case dimTag:
			out[i] = ev.strs[g[i]]
		case dimHour:
			out[i] = hourString(int32(g[i]))
		case dimDay:
			out[i] = dayString(int32(g[i]))
		default:
			out[i] = ev.m.strs[g[i]]
		}
	}
	return out
}

// tagValue finds tag name in an interned tag set "k=v\x00k=v".
func tagValue(set, name string) (string, bool) {
	for kv := range strings.SplitSeq(set, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

func hourOf(t time.Time) int32 { return int32(floorDiv(t.Unix(), 3600)) }

func unixHour(h int32) time.Time { return time.Unix(int64(h)*3600, 0).UTC() }

// floorDiv divides rounding toward minus infinity: hour -1 is in day -1.
func floorDiv[T int32 | int64](a, b T) T {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ParseTime reads a query's since or until: "" (an open end), "today"
// or "yesterday" (midnight UTC), a time ago ("7d", "2w", "36h", "90m"), a
// date ("2026-12-01", midnight UTC) or an RFC 3339 time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	midnight := now.UTC().Truncate(24 * time.Hour)
	switch s {
	case "":
		return time.Time{}, nil
	case "now":
		return now, nil
	case "today":
		return midnight, nil
	case "yesterday":
		return midnight.AddDate(0, 0, -1), nil
	}
	if n, unit := strings.TrimRight(s, "dw"), s[len(strings.TrimRight(s, "dw")):]; len(unit) == 1 && n != "" {
		days, err := strconv.Atoi(n)
		if err == nil && days >= 0 && days <= 100*366 {
			if unit == "w" {
				days *= 7
			}
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use today, yesterday, a time ago (7d, 2w, 36h), a date (2026-12-01) or an RFC 3339 time", s)
}
