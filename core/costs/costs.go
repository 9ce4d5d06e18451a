package costs

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/internal/chunked"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// ProjectionName is the model's projection (and checkpoint) name.
const ProjectionName = "core.costs"

// The totals a row keeps, as indexes into a totals array. Money is in
// nano-dollars, latency in microseconds.
const (
	tCalls = iota
	tFailed
	tRetries
	tFallbacks
	tRetriedCalls
	tFellBackCalls
	tInputTokens
	tOutputTokens
	tCacheReadTokens
	tCacheWriteTokens
	tReasoningTokens
	tCost
	tInputCost
	tCacheReadCost
	tCacheWriteCost
	tOutputCost
	tReasoningCost
	tRetryCost
	tFallbackCost
	tFailedCost
	tUnpriced
	tLatencyUS
	nTotals
)

type totals [nTotals]int64

func (t *totals) add(o *totals) {
	for i := range t {
		t[i] += o[i]
	}
}

// summaryKey is a row of the summary table: an hour and the dimensions
// most questions group by, as interned string ids (0 is "").
type summaryKey struct {
	hour                              int32 // hours since the Unix epoch, UTC
	agent, team, model, provider, api uint32
}

// coarseKey is a row of the coarse table: a summary row split by user
// and tag set.
type coarseKey struct {
	summaryKey
	user uint32
	tags uint32 // the tag set, without session and turn
}

// fineKey is a row of the fine table: a coarse row split by key, session
// and decision.
type fineKey struct {
	coarseKey
	key, session, decision uint32
}

// table is rows of totals in the order they were first seen, indexed
// by hour: the rows of each hour, so that a query of a time range reads
// only its hours, and an index from key to row per hour.
//
// An index per hour rather than one for the table: a call finds its row
// in the small map of its hour (the last one, nearly always), which the
// cache holds, instead of in a map of millions of rows, where each lookup
// missed the cache (a tenth of a rebuild's CPU went to the three tables'
// lookups).
//
// Rows live in chunks of a fixed size: a table of millions of rows grows
// without copying them (growing one slice of them was a tenth of a
// rebuild's CPU, in copies and fresh pages).
type table[K comparable] struct {
	rows chunked.Slice[row[K]]
	// hours lists the hours with rows, ascending; byHour their rows.
	hours  []int32
	byHour map[int32]*hourRows[K]
	// last is the hour of the last add, lastHour which it is.
	last     *hourRows[K]
	lastHour int32
}

// hourRows is a table's rows of one hour.
type hourRows[K comparable] struct {
	rows  []int32
	index map[K]int32
}

type row[K comparable] struct {
	key K
	val totals
}

func newTable[K comparable]() table[K] {
	return table[K]{byHour: map[int32]*hourRows[K]{}}
}

// row returns row i.
func (t *table[K]) row(i int32) *row[K] { return t.rows.At(int(i)) }

// len returns the number of rows.
func (t *table[K]) len() int { return t.rows.Len() }

// hour returns the rows of hour, adding them if new.
func (t *table[K]) hour(hour int32) *hourRows[K] {
	if t.last != nil && t.lastHour == hour {
		return t.last
	}
	h := t.byHour[hour]
	if h == nil {
		// A new hour is sized as the hour before, so that a busy hour's
		// index does not grow from nothing by rehashing; an older one
		// (a late event's) from nothing.
		size := 0
		if t.last != nil && hour > t.lastHour {
			size = len(t.last.rows)
		}
		h = &hourRows[K]{index: make(map[K]int32, size)}
		t.byHour[hour] = h
		// Events come in time order but for the odd late one, so the
		// new hour is nearly always the last.
		at, _ := slices.BinarySearch(t.hours, hour)
		t.hours = slices.Insert(t.hours, at, hour)
	}
	t.last, t.lastHour = h, hour
	return h
}

// has reports whether the table has a row of key k in hour.
func (t *table[K]) has(k K, hour int32) bool {
	h := t.byHour[hour]
	if h == nil {
		return false
	}
	_, ok := h.index[k]
	return ok
}

func (t *table[K]) add(k K, hour int32, v *totals) int32 {
	h := t.hour(hour)
	i, ok := h.index[k]
	if !ok {
		i = int32(t.rows.Len())
		t.rows.Append(row[K]{key: k})
		h.index[k] = i
		h.rows = append(h.rows, i)
	}
	t.row(i).val.add(v)
	return i
}

// rowsIn calls fn with the rows of each hour in [from, to), in order.
func (t *table[K]) rowsIn(from, to int32, fn func(rows []int32)) {
	at, _ := slices.BinarySearch(t.hours, from)
	for _, h := range t.hours[at:] {
		if h >= to {
			return
		}
		fn(t.byHour[h].rows)
	}
}

// Model is the cost read model. It is a projection.Projection; its
// queries are safe to run while a Runner feeds it.
type Model struct {
	mu      sync.RWMutex
	strs    []string          // interned strings; strs[0] is ""
	ids     map[string]uint32 // the reverse of strs
	fine    table[fineKey]
	coarse  table[coarseKey]
	summary table[summaryKey]
	// sessionRows lists the fine rows of each session, for the queries
	// of one session or decision.
	sessionRows map[uint32][]int32
	// tagSets lists the ids of the interned tag sets.
	tagSets []uint32
	// decisions remembers the decision of recent sessions' last calls.
	decisions [4096]decisionMemo

	// strBytes is about what the interned strings take in a snapshot;
	// snapPerRow what the last snapshot took per fine row, in 1/16
	// bytes: the next snapshot's buffer is their sum.
	strBytes   int
	snapPerRow atomic.Int64

	// scratch for Apply, which runs on one goroutine at a time.
	tagBuf  []byte
	tagKV   [][2][]byte
	scratch call
}

var _ projection.Projection = (*Model)(nil)

// New returns an empty model.
func New() *Model {
	m := &Model{}
	m.reset()
	return m
}

func (m *Model) reset() {
	m.strs, m.ids, m.strBytes = []string{""}, map[string]uint32{"": 0}, 0
	m.fine, m.coarse, m.summary = newTable[fineKey](), newTable[coarseKey](), newTable[summaryKey]()
	m.sessionRows = map[uint32][]int32{}
	m.tagSets = nil
	m.decisions = [len(m.decisions)]decisionMemo{}
}

// Name implements projection.Projection.
func (m *Model) Name() string { return ProjectionName }

// intern returns the id of b, adding it if new. The lookup does not
// allocate; only a new string is copied.
func (m *Model) intern(b []byte) uint32 {
	if id, ok := m.ids[string(b)]; ok {
		return id
	}
	s := string(b)
	id := uint32(len(m.strs))
	m.strs = append(m.strs, s)
	m.strBytes += len(s) + 2
	m.ids[s] = id
	return id
}

// call is what the model reads from a call event's data. Strings are
// byte slices into the event's data, valid during Apply.
type call struct {
	keyID, api, provider                     []byte
	targetModel, requestModel, responseModel []byte
	session, turn                            []byte
	via                                      []byte
	attempts, retries, fallbacks             int64
	v                                        totals
	costUSD                                  [6]float64 // total, input, cache read, cache write, output, reasoning
	unpriced                                 bool
	latencyMS                                float64
}

var viaRetry = []byte("retry")

// costFields are the JSON members of the cost breakdown, in costUSD's order.
var costFields = [6]string{"cost_usd", "input_cost_usd", "cache_read_cost_usd", "cache_write_cost_usd", "output_cost_usd", "reasoning_cost_usd"}

// Apply implements projection.Projection: it adds a model.call.completed
// or model.call.failed event to its rows. Other events are ignored.
func (m *Model) Apply(e *event.Event) error {
	failed := e.Type == "model.call.failed"
	if !failed && e.Type != "model.call.completed" {
		return nil
	}
	if t, ok := event.Lookup(e.Type); ok && e.Metadata.Schema > t.Schema {
		return fmt.Errorf("%s event has schema %d, newer than this build knows (%d): upgrade switchyard", e.Type, e.Metadata.Schema, t.Schema)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &m.scratch
	*c = call{}
	m.tagKV = m.tagKV[:0]
	if err := m.decode(e.Data, c); err != nil {
		return fmt.Errorf("decode %s event %s: %w", e.Type, e.ID, err)
	}
	for i, usd := range c.costUSD {
		if usd < 0 || usd > 1e9 || math.IsNaN(usd) {
			return fmt.Errorf("%s event %s has %s %v: a cost is between 0 and 1e9 dollars; fix the event's writer", e.Type, e.ID, costFields[i], usd)
		}
		c.v[tCost+i] = int64(math.Round(usd * 1e9))
	}
	v := &c.v
	v[tCalls] = 1
	v[tLatencyUS] = int64(math.Round(c.latencyMS * 1000))
	if c.unpriced {
		v[tUnpriced] = 1
	}
	if c.retries == 0 && c.fallbacks == 0 && len(c.via) == 0 && c.attempts > 1 {
		// Written before calls said how they got there: the extra
		// attempts were retries or fallbacks, and which is not known.
		c.retries, c.via = c.attempts-1, viaRetry
	}
	v[tRetries], v[tFallbacks] = c.retries, c.fallbacks
	switch {
	case failed:
		v[tFailed], v[tFailedCost] = 1, v[tCost]
	case string(c.via) == "retry":
		v[tRetriedCalls], v[tRetryCost] = 1, v[tCost]
	case string(c.via) == "fallback":
		v[tFellBackCalls], v[tFallbackCost] = 1, v[tCost]
	}

	session := c.session
	sessionID := uint32(0)
	if md := e.Metadata.Session; md != "" {
		sessionID = m.internString(md) // the key's own tag, which the gateway put there
	} else {
		sessionID = m.intern(session)
	}
	model := c.targetModel
	if len(model) == 0 { // written before calls named their target model
		model = c.responseModel
	}
	if len(model) == 0 {
		model = c.requestModel
	}
	keyID := m.intern(c.keyID)
	if keyID == 0 {
		if k, ok := strings.CutPrefix(e.Stream, "calls-"); ok {
			keyID = m.internString(k)
		}
	}
	ck := coarseKey{
		summaryKey: summaryKey{hour: hourOf(e.Time), agent: m.internString(e.Metadata.Agent), team: m.internString(e.Metadata.Team),
			model: m.intern(model), provider: m.intern(c.provider), api: m.intern(c.api)},
		user: m.internString(e.Metadata.User), tags: m.internTags(),
	}
	fk := fineKey{coarseKey: ck, key: keyID, session: sessionID}
	if sessionID != 0 && len(c.turn) > 0 {
		fk.decision = m.decision(sessionID, c.turn)
	}
	m.summary.add(ck.summaryKey, ck.hour, v)
	m.coarse.add(ck, ck.hour, v)
	n := m.fine.len()
	row := m.fine.add(fk, ck.hour, v)
	if int(row) == n && fk.session != 0 {
		m.sessionRows[fk.session] = append(m.sessionRows[fk.session], row)
	}
	return nil
}

// decisionMemo is the decision a session's last call was in.
type decisionMemo struct{ session, id uint32 }

// decision returns the id of decision "SESSION/TURN". A session's calls
// come one after the other, most in the same turn as the call before:
// the id is remembered per session (in a small table, by session id),
// which saves a lookup in the map of every string the model has (two
// thirds of the lookups of a rebuild's decisions).
func (m *Model) decision(session uint32, turn []byte) uint32 {
	d := &m.decisions[session%uint32(len(m.decisions))]
	if d.session == session && d.id != 0 {
		// The turn is what follows "SESSION/" in the decision's string.
		if s := m.strs[d.id]; string(turn) == s[len(m.strs[session])+1:] {
			return d.id
		}
	}
	m.tagBuf = append(append(append(m.tagBuf[:0], m.strs[session]...), '/'), turn...)
	id := m.intern(m.tagBuf)
	*d = decisionMemo{session: session, id: id}
	return id
}

func (m *Model) internString(s string) uint32 {
	if id, ok := m.ids[s]; ok {
		return id
	}
	return m.intern([]byte(s))
}

// internTags interns the tag set in m.tagKV, sorted, without session and
// turn, as "k=v\x00k=v".
func (m *Model) internTags() uint32 {
	if len(m.tagKV) == 0 {
		return 0
	}
	slices.SortFunc(m.tagKV, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
	b := m.tagBuf[:0]
	for i, kv := range m.tagKV {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(append(append(b, kv[0]...), '='), kv[1]...)
	}
	m.tagBuf = b
	n := len(m.strs)
	id := m.intern(b)
	if len(m.strs) > n {
		m.tagSets = append(m.tagSets, id)
	}
	return id
}

// decode reads the members the model needs from a call event's data.
func (m *Model) decode(data []byte, c *call) error {
	return jsonscan.Fields(data, func(key, v []byte) error {
		switch string(key) {
		case "key_id":
			return jsonscan.Text(v, &c.keyID)
		case "tags":
			return m.decodeTags(v, c)
		case "api":
			return jsonscan.Text(v, &c.api)
		case "gen_ai.provider.name":
			return jsonscan.Text(v, &c.provider)
		case "target_model":
			return jsonscan.Text(v, &c.targetModel)
		case "gen_ai.request.model":
			return jsonscan.Text(v, &c.requestModel)
		case "gen_ai.response.model":
			return jsonscan.Text(v, &c.responseModel)
		case "via":
			return jsonscan.Text(v, &c.via)
		case "attempts":
			return jsonscan.Int64(v, &c.attempts)
		case "retries":
			return jsonscan.Int64(v, &c.retries)
		case "fallbacks":
			return jsonscan.Int64(v, &c.fallbacks)
		case "gen_ai.usage.input_tokens":
			return jsonscan.Int64(v, &c.v[tInputTokens])
		case "gen_ai.usage.output_tokens":
			return jsonscan.Int64(v, &c.v[tOutputTokens])
		case "gen_ai.usage.cache_read.input_tokens":
			return jsonscan.Int64(v, &c.v[tCacheReadTokens])
		case "gen_ai.usage.cache_creation.input_tokens":
			return jsonscan.Int64(v, &c.v[tCacheWriteTokens])
		case "gen_ai.usage.reasoning.output_tokens":
			return jsonscan.Int64(v, &c.v[tReasoningTokens])
		case "cost_usd":
			return jsonscan.Float(v, &c.costUSD[0])
		case "input_cost_usd":
			return jsonscan.Float(v, &c.costUSD[1])
		case "cache_read_cost_usd":
			return jsonscan.Float(v, &c.costUSD[2])
		case "cache_write_cost_usd":
			return jsonscan.Float(v, &c.costUSD[3])
		case "output_cost_usd":
			return jsonscan.Float(v, &c.costUSD[4])
		case "reasoning_cost_usd":
			return jsonscan.Float(v, &c.costUSD[5])
		case "unpriced":
			return jsonscan.Bool(v, &c.unpriced)
		case "latency_ms":
			return jsonscan.Float(v, &c.latencyMS)
		}
		return nil
	})
}

// decodeTags reads a call's tags: session and turn apart, the rest into
// m.tagKV.
func (m *Model) decodeTags(v []byte, c *call) error {
	if string(v) == "null" {
		return nil
	}
	var err error
	scanErr := jsonscan.Members(v, func(key []byte, start, end int) bool {
		var val []byte
		if err = jsonscan.Text(v[start:end], &val); err != nil {
			return false
		}
		switch string(key) {
		case "session":
			c.session = val
		case "turn":
			c.turn = val
		default:
			if bytes.ContainsAny(key, "\\=\x00") || bytes.IndexByte(val, 0) >= 0 {
				err = fmt.Errorf("tag %q: a tag name has no '=', escape or NUL, a value no NUL", key)
				return false
			}
			m.tagKV = append(m.tagKV, [2][]byte{key, val})
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	return scanErr
}

// hourString formats an hour bucket.
func hourString(h int32) string { return unixHour(h).Format("2006-01-02T15:00Z") }

func dayString(d int32) string { return unixHour(d * 24).Format("2006-01-02") }
