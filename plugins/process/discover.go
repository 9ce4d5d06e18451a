package process

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Prefix starts the file name of every plugin binary:
// switchyard-plugin-<name> (with .exe on Windows).
const Prefix = "switchyard-plugin-"

// Binary is a plugin executable found by Discover.
type Binary struct {
	Name string // <name> in switchyard-plugin-<name>
	Path string
}

// Skipped is a file Discover did not take, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Discover lists the plugin binaries in dirs: the files named
// switchyard-plugin-<name> that are executable, following symlinks. Like
// PATH, an earlier directory wins when two hold the same name. It never
// fails; everything it leaves out is in skipped with the reason, for the
// caller to log: missing or unreadable directories, other names,
// subdirectories, broken symlinks, files that are not executable, and
// shadowed duplicates.
func Discover(dirs ...string) (found []Binary, skipped []Skipped) {
	seen := map[string]string{} // name → path
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			skipped = append(skipped, Skipped{dir, fmt.Sprintf("cannot read the directory: %v", err)})
			continue
		}
		for _, e := range entries { // sorted by name
			path := filepath.Join(dir, e.Name())
			name, ok := pluginName(e.Name())
			if !ok {
				skipped = append(skipped, Skipped{path, "the name does not have the form " + Prefix + "<name>"})
				continue
			}
			info, err := os.Stat(path) // follows symlinks
			switch {
			case errors.Is(err, fs.ErrNotExist):
				skipped = append(skipped, Skipped{path, "a broken symlink"})
			case err != nil:
				skipped = append(skipped, Skipped{path, err.Error()})
			case info.IsDir():
				skipped = append(skipped, Skipped{path, "a directory"})
			case !executable(info):
				skipped = append(skipped, Skipped{path, "not executable"})
			case seen[name] != "":
				skipped = append(skipped, Skipped{path, "shadowed by " + seen[name]})
			default:
				seen[name] = path
				found = append(found, Binary{Name: name, Path: path})
			}
		}
	}
	return found, skipped
}

// pluginName returns <name> for a file called switchyard-plugin-<name>.
func pluginName(file string) (string, bool) {
	if runtime.GOOS == "windows" {
		file = strings.TrimSuffix(strings.ToLower(file), ".exe")
	}
	name, ok := strings.CutPrefix(file, Prefix)
	return name, ok && name != ""
}

func executable(info fs.FileInfo) bool {
	if runtime.GOOS == "windows" {
		return strings.EqualFold(filepath.Ext(info.Name()), ".exe")
	}
	return info.Mode().Perm()&0o111 != 0
}

// Checksum returns the hex SHA-256 of the file at path, the form
// Config.SHA256 takes.
func Checksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
