// Package chunked is a slice that grows in chunks of a fixed size: a read
// model of millions of rows appends without copying the rows it has (a
// slice that doubles copies them all, again and again, and each copy is
// fresh memory for the collector to scan).
package chunked

// chunkBits sets the chunk size: 1,024 elements.
const chunkBits = 10

const chunkLen = 1 << chunkBits

// Slice is a list of T. Its zero value is empty and ready. Pointers that
// At returns stay valid as the list grows.
type Slice[T any] struct {
	chunks [][]T
	n      int
}

// Len returns the number of elements.
func (s *Slice[T]) Len() int { return s.n }

// At returns element i, which must be below Len.
func (s *Slice[T]) At(i int) *T { return &s.chunks[i>>chunkBits][i&(chunkLen-1)] }

// Append adds v at the end and returns where it is.
func (s *Slice[T]) Append(v T) *T {
	if s.n>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, chunkLen))
	}
	s.n++
	p := s.At(s.n - 1)
	*p = v
	return p
}
