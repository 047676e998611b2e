package instance

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// phpFronts are the front controllers a php version without an entrypoint
// runs, the first present (../shared/docs/runtimes.md §2).
var phpFronts = []string{"public/index.php", "index.php"}

// phpLaunch is how a php version runs locally: App Engine's front
// controller (its default, or `entrypoint: serve [flags] front.php`) under
// PHP's built-in server with the front controller as its router script,
// so every request the static handlers leave goes to it (a router that
// returns false gets the file the URL names, as the built-in server does);
// any other entrypoint runs as given.
type phpLaunch struct {
	// shell is the command; "" when the entrypoint runs as given.
	shell string
	env   map[string]string
}

// phpCommand reads a php version's entrypoint (app.yaml's, with the
// "exec " appconfig puts before it) against the files in dir.
func phpCommand(key Key, dir, entrypoint string) (phpLaunch, error) {
	var l phpLaunch
	front := ""
	fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(entrypoint), "exec "))
	switch {
	case entrypoint == "":
		for _, f := range phpFronts {
			if exists(dir, f) {
				front = f
				break
			}
		}
		if front == "" {
			return l, fmt.Errorf("%s has no entrypoint, so App Engine runs public/index.php (or else index.php) as its front controller, and it has neither: "+
				"deploy one, or give app.yaml an entrypoint such as `entrypoint: serve path/to/front.php`", key)
		}
	case len(fields) > 0 && fields[0] == "serve":
		// serve [--workers=N] [--enable-dynamic-workers] path/to/front.php:
		// flags before the path.
		args := fields[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			flag, value, hasValue := strings.Cut(args[0], "=")
			args = args[1:]
			if flag == "--workers" {
				if !hasValue && len(args) > 0 {
					value, args = args[0], args[1:]
				}
				// The built-in server's own worker processes.
				l.env = map[string]string{"PHP_CLI_SERVER_WORKERS": value}
			}
		}
		if len(args) != 1 {
			return l, fmt.Errorf("%s: entrypoint %q: App Engine's form is `serve [--workers=N] [--enable-dynamic-workers] path/to/front.php`, flags before the one path", key, strings.Join(fields, " "))
		}
		front = filepath.ToSlash(filepath.Clean(args[0]))
		if !exists(dir, front) {
			return l, fmt.Errorf("%s: entrypoint %q names the front controller %s, which the version does not have", key, strings.Join(fields, " "), front)
		}
	default:
		return l, nil
	}
	docroot := filepath.ToSlash(filepath.Dir(front))
	// -q keeps the built-in server's access log out of the app's log (serve
	// writes the request log); error_log to stderr brings error_log() lines
	// back, which -q would silence too.
	l.shell = "exec php -d error_log=/dev/stderr -S 127.0.0.1:$PORT -q -t " + shellQuote(docroot) + " " + shellQuote(front)
	return l, nil
}

// php returns how to start a php version, after installing composer.json's
// dependencies when it has one.
func (m *Manager) php(ctx context.Context, s Spec, path string) (launch, error) {
	l := launch{shell: s.Entrypoint, env: map[string]string{}}
	pl, err := phpCommand(s.Key, s.Dir, s.Entrypoint)
	if err != nil {
		return l, err
	}
	if pl.shell != "" {
		if _, err := lookPath("php", path); err != nil {
			return l, fmt.Errorf("%s is %s, which runs its front controller under PHP, and php is not on PATH: install PHP's command line (php-cli)", s.Key, s.Runtime)
		}
		l.shell = pl.shell
	}
	for k, v := range pl.env {
		l.env[k] = v
	}
	if exists(s.Dir, "composer.json") {
		tree, err := m.phpTree(ctx, s)
		if err != nil {
			return l, err
		}
		// The app runs in a tree holding its own files and vendor/, since
		// its code finds vendor/autoload.php beside itself.
		l.shell = "cd " + shellQuote(tree) + " && " + l.shell
	}
	return l, nil
}

// phpVendor installs composer.json's packages (composer install, by
// composer.lock when there is one, as App Engine's build does) once per
// composer.json and lock content, without the autoloader: each version's
// tree gets its own, made from its own files.
func (m *Manager) phpVendor(ctx context.Context, s Spec) (dir, file string, err error) {
	dir, file, err = m.installOnce(s, "php", "composer.json", "composer.lock", func(dir, file string) error {
		return m.run(ctx, s, file, dir, "composer", "install", "--no-dev", "--no-interaction", "--no-progress", "--no-scripts", "--no-autoloader")
	})
	return dir, file, err
}

// phpTree lays out, once per deployment and composer content, the tree a
// php version with composer.json runs in: its files and the cached
// vendor/ as hard links (copies only across file systems), vendor/composer
// copied, and composer's autoloader dumped for the version's own classes.
func (m *Manager) phpTree(ctx context.Context, s Spec) (string, error) {
	vendor, file, err := m.phpVendor(ctx, s)
	if err != nil {
		return "", err
	}
	tree := filepath.Join(m.cfg.CacheDir, "php", "run", deploymentID(s.Dir)+"-"+filepath.Base(vendor))
	return tree, m.once(tree, func() error {
		// A vendor/ the app deployed gives way to the installed one.
		if err := mirrorTree(s.Dir, tree, true, func(rel string) bool { return rel == "vendor" }); err != nil {
			return fmt.Errorf("%s: laying out its files with vendor/: %w", s.Key, err)
		}
		src := filepath.Join(vendor, "vendor")
		if err := mirrorTree(src, filepath.Join(tree, "vendor"), true, func(rel string) bool { return rel == "composer" }); err != nil {
			return fmt.Errorf("%s: laying out vendor/: %w", s.Key, err)
		}
		// dump-autoload rewrites vendor/composer: a copy, so the cache
		// stays as installed.
		if err := mirrorTree(filepath.Join(src, "composer"), filepath.Join(tree, "vendor", "composer"), false, nil); err != nil {
			return fmt.Errorf("%s: laying out vendor/composer: %w", s.Key, err)
		}
		return m.run(ctx, s, file, tree, "composer", "dump-autoload", "--no-dev", "--optimize", "--no-interaction")
	})
}

// mirrorTree recreates src's files under dst, as hard links when link
// is set (a copy where links cannot cross file systems), else as copies,
// leaving out the top-level entries skip names. A missing src is an empty
// tree.
func mirrorTree(src, dst string, link bool, skip func(rel string) bool) error {
	if _, err := os.Stat(src); os.IsNotExist(err) {
		return os.MkdirAll(dst, 0o700)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && !strings.Contains(filepath.ToSlash(rel), "/") && skip != nil && skip(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(to, target)
		}
		if link {
			if err := os.Link(p, target); err == nil {
				return nil
			}
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
