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
func copyDir(src, dst string) error { return copyDirExcept(src, dst, "") }

// copyDirExcept is copyDir leaving out the top-level entry named skip;
// files that exist in dst are replaced.
func copyDirExcept(src, dst, skip string) error {
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
		if skip != "" && (rel == skip || strings.HasPrefix(rel, skip+string(filepath.Separator))) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
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
			if err := os.Mkdir(to, info.Mode().Perm()|0o700); err != nil && !os.IsExist(err) {
				return err
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(to)
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
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// forkWorkspace fills dst (which does not exist) with a copy of src, a
// session's workspace. A git worktree cannot be copied as it is (the
// copy would share the worktree's index and HEAD): the fork gets a
// worktree of its own at the same commit, with src's files copied over.
func forkWorkspace(ctx context.Context, w agent.Workspace, src, dst string) error {
	if w.Git == "" {
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		return copyDir(src, dst)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		return fmt.Errorf("git rev-parse HEAD in %s: %w", src, err)
	}
	head := strings.TrimSpace(string(out))
	if b, err := exec.CommandContext(ctx, "git", "-C", w.Git, "worktree", "add", "--detach", dst, head).CombinedOutput(); err != nil {
		return fmt.Errorf("git worktree add at %s: %v: %s", head, err, strings.TrimSpace(string(b)))
	}
	return copyDirExcept(src, dst, ".git")
}
