package pricing

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Table maps model names to prices. The zero value is an empty table ready
// to use. Lookup is safe for concurrent use with Set and Merge: writers
// build a new immutable snapshot and publish it atomically, so readers
// never lock.
type Table struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[snapshot]
}

// snapshot is one immutable state of a Table.
type snapshot struct {
	// exact maps lower-cased keys ("gpt-5", "gemini/gemini-2.5-pro") to
	// prices.
	exact map[string]*Price
	// alias maps a key with its date suffix stripped to the price of the
	// latest dated key, for names not in exact.
	alias map[string]*Price
	// aliasKey records which exact key each alias came from, to pick the
	// latest when several collide.
	aliasKey map[string]string
}

// NewTable returns a table holding prices, keyed as in a LiteLLM file:
// "model" or "provider/model". Keys are case-insensitive; of two keys
// that differ only in case (LiteLLM has a few), the one that sorts last
// wins, which is the more lower-case one.
func NewTable(prices map[string]Price) *Table {
	t := &Table{}
	keys := make([]string, 0, len(prices))
	for k := range prices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	exact := make(map[string]*Price, len(prices))
	for _, k := range keys {
		p := prices[k]
		exact[lowerASCII(k)] = &p
	}
	t.snap.Store(newSnapshot(exact))
	return t
}

func newSnapshot(exact map[string]*Price) *snapshot {
	s := &snapshot{exact: exact, alias: map[string]*Price{}, aliasKey: map[string]string{}}
	for k, p := range exact {
		model, provider := k, ""
		if i := strings.IndexByte(k, '/'); i >= 0 {
			provider, model = k[:i+1], k[i+1:]
		}
		base, ok := stripDate(model)
		if !ok {
			continue
		}
		a := provider + base
		if _, isExact := exact[a]; isExact {
			continue
		}
		// Dates sort as strings; the latest dated key wins the alias.
		if prev, taken := s.aliasKey[a]; taken && prev > k {
			continue
		}
		s.alias[a], s.aliasKey[a] = p, k
	}
	return s
}

func (t *Table) load() *snapshot {
	if s := t.snap.Load(); s != nil {
		return s
	}
	return &snapshot{}
}

// Len is the number of keys in the table (aliases not counted).
func (t *Table) Len() int { return len(t.load().exact) }

// Keys lists the table's keys, lower-cased and sorted.
func (t *Table) Keys() []string {
	s := t.load()
	keys := make([]string, 0, len(s.exact))
	for k := range s.exact {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Set adds or replaces the price under key ("model" or "provider/model").
func (t *Table) Set(key string, p Price) {
	t.update(func(exact map[string]*Price) { exact[lowerASCII(key)] = &p })
}

// Merge copies every entry of other into t, replacing entries with the
// same key: merging a price file over the built-in table lets the file
// override it. other is not modified.
func (t *Table) Merge(other *Table) {
	if other == nil || other == t {
		return
	}
	o := other.load()
	t.update(func(exact map[string]*Price) {
		for k, p := range o.exact {
			exact[k] = p
		}
	})
}

func (t *Table) update(fn func(exact map[string]*Price)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.load()
	exact := make(map[string]*Price, len(old.exact)+1)
	for k, p := range old.exact {
		exact[k] = p
	}
	fn(exact)
	t.snap.Store(newSnapshot(exact))
}

// keyBufSize fits nearly every "provider/model" key on the stack.
const keyBufSize = 160

// Lookup finds the price of model served by provider (a provider kind such
// as "openai", "anthropic", "gemini"; may be empty). See the package doc
// for the order of attempts. It does not allocate for keys shorter than
// 160 bytes.
func (t *Table) Lookup(provider, model string) (Price, bool) {
	s := t.snap.Load()
	model = strings.TrimPrefix(model, "models/") // Gemini's resource name
	if s == nil || model == "" {
		return Price{}, false
	}
	var buf [keyBufSize]byte
	if p := s.find(buf[:0], provider, model); p != nil {
		return *p, true
	}
	return Price{}, false
}

func (s *snapshot) find(buf []byte, provider, model string) *Price {
	stripped, dated := stripDate(model)
	if p := s.get(s.exact, buf, provider, model); p != nil {
		return p
	}
	if dated {
		if p := s.get(s.exact, buf, provider, stripped); p != nil {
			return p
		}
	}
	if p := s.get(s.alias, buf, provider, model); p != nil {
		return p
	}
	if dated {
		return s.get(s.alias, buf, provider, stripped)
	}
	return nil
}

// get tries "provider/model", then "model", in m.
func (s *snapshot) get(m map[string]*Price, buf []byte, provider, model string) *Price {
	if provider != "" {
		key := appendLower(appendLower(buf, provider), "/")
		key = appendLower(key, model)
		if p := m[string(key)]; p != nil {
			return p
		}
	}
	return m[string(appendLower(buf[:0], model))]
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// lowerASCII lower-cases ASCII letters only, as Lookup does, so that keys
// and queries fold the same way whatever their other characters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return string(appendLower(make([]byte, 0, len(s)), s))
		}
	}
	return s
}

// stripDate removes a trailing release date from a model name:
// "-YYYYMMDD" (Anthropic), "-YYYY-MM-DD" (OpenAI) or "@YYYYMMDD" (Vertex).
// It reports whether there was one.
func stripDate(model string) (string, bool) {
	n := len(model)
	// -YYYYMMDD or @YYYYMMDD
	if n > 9 && (model[n-9] == '-' || model[n-9] == '@') && isDate(model[n-8:n-4], model[n-4:n-2], model[n-2:]) {
		return model[:n-9], true
	}
	// -YYYY-MM-DD
	if n > 11 && model[n-11] == '-' && model[n-6] == '-' && model[n-3] == '-' &&
		isDate(model[n-10:n-6], model[n-5:n-3], model[n-2:]) {
		return model[:n-11], true
	}
	return model, false
}

// isDate checks digits and plausible ranges, so that version numbers such
// as "-20b" or "-1106" are not mistaken for dates.
func isDate(y, m, d string) bool {
	if !digits(y) || !digits(m) || !digits(d) {
		return false
	}
	if y[0] != '2' { // 2000-2999
		return false
	}
	mm := int(m[0]-'0')*10 + int(m[1]-'0')
	dd := int(d[0]-'0')*10 + int(d[1]-'0')
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
