package session

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/core/agent"
)

// prepareWorkspace fills dst, an empty directory, with the agent's
// workspace: a copy of a directory, or a detached git worktree of a
// repository at the agent's ref. With neither, dst stays empty.
func prepareWorkspace(ctx context.Context, w agent.Workspace, dst string) error {
	switch {
	case w.Git != "":
		ref := w.Ref
		if ref == "" {
			ref = "HEAD"
		}
		// The worktree directory must not exist yet.
		if err := os.Remove(dst); err != nil {
			return err
		}
		out, err := exec.CommandContext(ctx, "git", "-C", w.Git, "worktree", "add", "--detach", dst, ref).CombinedOutput()
		if err != nil {
			return fmt.Errorf("git worktree add of %s at %s: %v: %s", w.Git, ref, err, strings.TrimSpace(string(out)))
		}
		return nil
	case w.Path != "":
		return copyDir(w.Path, dst)
	}
	return nil
}

// copyDir copies the tree at src into dst (which exists): regular
// files, directories and symlinks, with their modes.
func copyDir(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if rel == "." {
				return nil
			}
			return os.Mkdir(to, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.Type().IsRegular():
			return copyFile(p, to, info.Mode().Perm())
		}
		return nil // sockets, devices: not part of a workspace
	})
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
