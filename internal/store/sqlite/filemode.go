package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The database holds the signing private keys and the applications'
// secret hashes: it and its directory are for the owner alone.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// prepareFiles makes the database at abs private before SQLite opens it:
// it creates a missing directory 0700 and a missing database file 0600
// (SQLite would create it 0644 less the umask, and gives the -wal and -shm
// files it creates later the database file's mode), and tightens an
// existing database, -wal or -shm file that group or others may access to
// 0600. Modes are set with Chmod, so the umask does not matter.
func prepareFiles(abs string) error {
	dir := filepath.Dir(abs)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("sqlite: create data directory: %w", err)
		}
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("sqlite: data directory: %w", err)
		}
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", abs, err)
	}
	f.Close()
	for _, p := range []string{abs, abs + "-wal", abs + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if fi.Mode().Perm() != fileMode {
			if err := os.Chmod(p, fileMode); err != nil {
				return fmt.Errorf("sqlite: make %s private (chmod 600): %w", p, err)
			}
		}
	}
	return nil
}
