package codec

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one step of a store's schema: the SQL file NNNN_name.sql
// of that store's migrations, applied in its own transaction.
type Migration struct {
	Version int
	Name    string // the file name without .sql, such as 0002_apps
	SQL     string
}

// LoadMigrations reads the files named NNNN_name.sql from dir. Versions
// must run 1, 2, 3... without gaps, so that the slice index is the
// version less one. Errors name the store (such as "sqlite").
func LoadMigrations(fsys fs.FS, dir, store string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("%s: migration file %q is not named NNNN_name.sql", store, name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s: migration %s: want version %d", store, m.Name, i+1)
		}
	}
	return ms, nil
}
