package chunked

import "testing"

func TestSlice(t *testing.T) {
	var s Slice[int]
	if s.Len() != 0 {
		t.Fatalf("zero value has %d elements", s.Len())
	}
	first := s.Append(-1)
	const n = 3*chunkLen + 5
	for i := 1; i < n; i++ {
		if p := s.Append(i); *p != i {
			t.Fatalf("Append(%d) returned a pointer to %d", i, *p)
		}
	}
	if s.Len() != n {
		t.Fatalf("Len = %d, want %d", s.Len(), n)
	}
	if first != s.At(0) || *first != -1 {
		t.Fatal("a pointer from Append moved as the slice grew")
	}
	for i := 1; i < n; i++ {
		if got := *s.At(i); got != i {
			t.Fatalf("At(%d) = %d", i, got)
		}
	}
}
