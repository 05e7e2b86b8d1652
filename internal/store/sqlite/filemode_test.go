package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDatabaseFilesArePrivate: the database holds the signing private
// keys, so Open creates it, its -wal and -shm and a missing directory for
// the owner alone, whatever the directory's own mode, and tightens files a
// looser build or a copy left readable by others.
func TestDatabaseFilesArePrivate(t *testing.T) {
	mode := func(t *testing.T, path string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	t.Run("created", func(t *testing.T) {
		dir := t.TempDir()
		// An existing, world-readable directory: the files in it still
		// must not be.
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "sub", "switchboard.db")
		s, err := Open(context.Background(), path, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := mode(t, filepath.Dir(path)); got != 0o700 {
			t.Errorf("new directory has mode %o, want 700", got)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if got := mode(t, p); got != 0o600 {
				t.Errorf("%s has mode %o, want 600", filepath.Base(p), got)
			}
		}
	})
	t.Run("tightened", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "switchboard.db")
		s, err := Open(context.Background(), path, quiet)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		// A database readable by others, with the empty -wal and -shm a
		// crash can leave (SQLite recovers from them).
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path + "-wal", path + "-shm"} {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err = Open(context.Background(), path, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if got := mode(t, p); got != 0o600 {
				t.Errorf("%s has mode %o after Open, want 600", filepath.Base(p), got)
			}
		}
	})
}
