package tape

import (
	"cmp"
	"fmt"

	"github.com/switchyard/switchyard/internal/jsonscan"
)

// members calls fn with each member of the JSON object obj: its key, raw
// (escapes left as they are), and its value.
func members(obj []byte, fn func(key, v []byte) error) error {
	var err error
	scanErr := jsonscan.Members(obj, func(key []byte, start, end int) bool {
		err = fn(key, obj[start:end])
		return err == nil
	})
	return cmp.Or(scanErr, err)
}

// elements calls fn with each element of the JSON array arr.
func elements(arr []byte, fn func(v []byte) error) error {
	i := jsonscan.Space(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return fmt.Errorf("%w: want an array", jsonscan.ErrSyntax)
	}
	i = jsonscan.Space(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for {
		end, err := jsonscan.Skip(arr, i)
		if err != nil {
			return err
		}
		if err := fn(arr[i:end]); err != nil {
			return err
		}
		i = jsonscan.Space(arr, end)
		switch {
		case i < len(arr) && arr[i] == ',':
			i = jsonscan.Space(arr, i+1)
		case i < len(arr) && arr[i] == ']':
			return nil
		default:
			return fmt.Errorf("%w: expected ',' or ']' at byte %d of an array", jsonscan.ErrSyntax, i)
		}
	}
}
