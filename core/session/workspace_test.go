package session

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/agent"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A git workspace: each session a worktree at the agent's ref; a fork a
// worktree of its own with the session's uncommitted work copied over.
func TestGitWorkspaceAndFork(t *testing.T) {
	ctx := context.Background()
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	write(t, filepath.Join(repo, "a.txt"), "one\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "first")
	w := agent.Workspace{Git: repo, Ref: "main"}

	ses := filepath.Join(t.TempDir(), "ses")
	os.Mkdir(ses, 0o700)
	if err := prepareWorkspace(ctx, w, ses); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(ses, "a.txt")) != "one\n" {
		t.Fatal("the worktree lacks the repository's file")
	}
	write(t, filepath.Join(ses, "a.txt"), "changed\n")
	write(t, filepath.Join(ses, "new.txt"), "new\n")

	fork := filepath.Join(t.TempDir(), "fork")
	if err := forkWorkspace(ctx, w, ses, fork); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(fork, "a.txt")) != "changed\n" || read(t, filepath.Join(fork, "new.txt")) != "new\n" {
		t.Fatal("the fork lacks the session's uncommitted work")
	}
	// Two worktrees, not one shared: a commit in the fork leaves the
	// session's index and HEAD alone.
	git(t, fork, "add", ".")
	git(t, fork, "commit", "-q", "-m", "in the fork")
	if st := git(t, ses, "status", "--porcelain"); !strings.Contains(st, "M a.txt") || !strings.Contains(st, "?? new.txt") {
		t.Fatalf("the session's worktree changed with the fork's commit: %q", st)
	}
	if git(t, ses, "rev-parse", "HEAD") == git(t, fork, "rev-parse", "HEAD") {
		t.Fatal("the fork's commit moved the session's HEAD")
	}

	// A directory workspace is copied, symlinks and modes kept.
	src := t.TempDir()
	write(t, filepath.Join(src, "run.sh"), "#!/bin/sh\n")
	os.Chmod(filepath.Join(src, "run.sh"), 0o755)
	os.Symlink("run.sh", filepath.Join(src, "link"))
	dst := t.TempDir()
	if err := prepareWorkspace(ctx, agent.Workspace{Path: src}, dst); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dst, "run.sh")); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("copied file: %v %v", st, err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "run.sh" {
		t.Fatalf("copied symlink: %q %v", l, err)
	}
}
