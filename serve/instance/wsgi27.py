# -*- coding: utf-8 -*-
"""The local host's python27 runner (appcfg serve): runs the version's WSGI
apps (app.yaml's `script: main.app`) under Python 2.7, as the SDK's dev
server did, on $PORT.

argv: the runner, then `--sdk-lib DIR` (the SDK's lib directory, when one
was found) and `--library NAME=VERSION` for each of app.yaml's libraries:.
serve names the script of each request in X-Appcfg-Script.
google.appengine's bundled services (ndb, memcache, users, taskqueue ...)
are not provided: a call into one while serving a request answers 502
naming it (at import time, models and decorators are only placeholders).
"""
import imp
import json
import logging
import os
import sys
import threading
import traceback
import types
from wsgiref.simple_server import WSGIRequestHandler, make_server


class BundledServiceMissing(BaseException):
    """A call into a bundled service. A BaseException, so that the app's
    frameworks (webapp2 catches Exception) let it reach the runner."""

    def __init__(self, name):
        BaseException.__init__(self, name)
        self.name = name


# importing is true while a script's module is imported: defining a model
# or decorating a function with a service's names is not calling it.
_state = {'importing': False}


class _Missing(object):
    """Any name of a bundled service's module: calling it while serving a
    request raises."""

    def __init__(self, name, *rest):
        # `class Greeting(ndb.Model)` makes a _Missing through the base's
        # type: it stands for the base's service.
        if rest and isinstance(rest[0], tuple):
            for base in rest[0]:
                if isinstance(base, _Missing):
                    name = base._name
                    break
        self._name = name

    def __call__(self, *args, **kwargs):
        if _state['importing']:
            return _Missing(self._name)
        raise BundledServiceMissing(self._name)

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        return _Missing(self._name)


class _MissingModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        full = self.__name__ + '.' + attr
        if full in sys.modules:
            return sys.modules[full]
        return _Missing(full)


class _BundledImporter(object):
    """Imports google.appengine.* as modules of _Missing names."""

    def find_module(self, name, path=None):
        if name == 'google' or name.startswith('google.appengine') or name == 'google.appengine':
            return self
        return None

    def load_module(self, name):
        if name in sys.modules:
            return sys.modules[name]
        m = _MissingModule(name)
        m.__path__ = []
        m.__loader__ = self
        sys.modules[name] = m
        parent, _, child = name.rpartition('.')
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, m)
        return m


def _version_key(version):
    """Sorts versions newest first ('' last)."""
    parts = []
    for p in version.split('.'):
        digits = ''.join(c for c in p if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(-x for x in parts) + (1,) if parts and version else (1,)


class _SDKLibraries(object):
    """Imports the SDK's bundled libraries (lib/NAME or lib/NAME-VERSION,
    each holding its library's top-level modules) that neither the app nor
    the interpreter has: app.yaml's version first, then the others newest
    first, skipping each that fails to import under Python 2.7 (the SDKs
    of today ship Python 3-only versions of some, jinja2 3 for one)."""

    def __init__(self, root, wanted):
        self.wanted = wanted
        self.candidates = {}  # top-level module -> [(library, version, dir)]
        libs = {}
        for entry in sorted(os.listdir(root)):
            d = os.path.join(root, entry)
            if os.path.isdir(d):
                name, _, version = entry.partition('-')
                libs.setdefault(name, []).append((version, d))
        for name, versions in sorted(libs.items()):
            want = wanted.get(name)
            versions.sort(key=lambda v: (v[0] != want, _version_key(v[0])))
            for version, d in versions:
                for module in self._modules(d):
                    self.candidates.setdefault(module, []).append((name, version, d))

    @staticmethod
    def _modules(d):
        out = []
        for f in os.listdir(d):
            p = os.path.join(d, f)
            if os.path.isdir(p) and os.path.exists(os.path.join(p, '__init__.py')):
                out.append(f)
            elif f.endswith('.py') and f != 'setup.py':
                out.append(f[:-3])
            elif f.endswith('.so'):
                out.append(f.split('.')[0])
        return out

    def find_module(self, name, path=None):
        if path is not None or name not in self.candidates:
            return None
        try:
            # The app's own and the interpreter's come first.
            f, _, _ = imp.find_module(name)
            if f:
                f.close()
            return None
        except ImportError:
            return self

    def load_module(self, name):
        if name in sys.modules:
            return sys.modules[name]
        failures = []
        for library, version, d in self.candidates[name]:
            try:
                f, p, desc = imp.find_module(name, [d])
            except ImportError:
                continue
            before = set(sys.modules)
            try:
                try:
                    module = imp.load_module(name, f, p, desc)
                finally:
                    if f:
                        f.close()
            except Exception as e:
                for k in set(sys.modules) - before:
                    del sys.modules[k]
                failures.append(('lib/' + os.path.basename(d), '%s: %s' % (
                    type(e).__name__, str(e).splitlines()[0] if str(e) else '')))
                continue
            want = self.wanted.get(library)
            if want and version != want:
                sys.stderr.write(json.dumps({'severity': 'WARNING', 'message':
                    "app.yaml's libraries: asks for %s %s; this SDK has no such version, so %s runs (%s)" % (
                        library, want, os.path.basename(d), getattr(module, '__version__', 'version unknown'))}) + '\n')
                sys.stderr.flush()
            return module
        library = self.candidates[name][0][0]
        want = self.wanted.get(library)
        if not failures:
            sdk = 'the App Engine SDK has none'
        elif len(failures) == 1:
            sdk = "the App Engine SDK's %s fails under it (%s)" % failures[0]
        else:
            sdk = "the App Engine SDK's %s fail under it" % ', '.join('%s (%s)' % f for f in failures)
        raise ImportError('No %s that runs on Python 2.7: %s. Install %s%s into this Python 2.7 (python2.7 -m pip install %s%s).' % (
            name, sdk, library, ' ' + want if want else '', library, '==' + want if want else ''))


def _service(name):
    parts = name.split('.')
    return parts[3] if len(parts) > 3 else name


class _JSONLog(logging.Handler):
    """logging records as JSON lines with their severity, as Cloud Logging
    reads them."""
    LEVELS = {'DEBUG': 'DEBUG', 'INFO': 'INFO', 'WARNING': 'WARNING', 'ERROR': 'ERROR', 'CRITICAL': 'CRITICAL'}

    def emit(self, record):
        try:
            msg = self.format(record)
            sys.stderr.write(json.dumps({'severity': self.LEVELS.get(record.levelname, 'INFO'), 'message': msg}) + '\n')
            sys.stderr.flush()
        except Exception:
            pass


_apps = {}
_lock = threading.Lock()


def _load(script):
    with _lock:
        if script in _apps:
            return _apps[script]
        module, _, attr = script.rpartition('.')
        _state['importing'] = True
        try:
            __import__(module)
        finally:
            _state['importing'] = False
        app = getattr(sys.modules[module], attr)
        _apps[script] = app
        return app


def _fail(start_response, status, message):
    sys.stderr.write(json.dumps({'severity': 'ERROR', 'message': message}) + '\n')
    sys.stderr.flush()
    start_response(status, [('Content-Type', 'text/plain; charset=utf-8')])
    return [message.encode('utf-8') + b'\n']


# Per-request variables the SDK's APIs read from os.environ (one request
# at a time: the runner serves python27 apps single-threaded, as
# threadsafe: false does).
_ENV_HEADERS = {'HTTP_X_APPENGINE_USER_EMAIL': 'USER_EMAIL', 'HTTP_X_APPENGINE_USER_ID': 'USER_ID',
                'HTTP_X_APPENGINE_AUTH_DOMAIN': 'AUTH_DOMAIN', 'HTTP_X_APPENGINE_USER_NICKNAME': 'USER_NICKNAME',
                'HTTP_X_APPENGINE_REQUEST_LOG_ID': 'REQUEST_LOG_ID',
                'HTTP_X_APPENGINE_DEFAULT_VERSION_HOSTNAME': 'DEFAULT_VERSION_HOSTNAME'}


def application(environ, start_response):
    script = environ.get('HTTP_X_APPCFG_SCRIPT', '')
    for h, k in _ENV_HEADERS.items():
        if h in environ:
            os.environ[k] = environ[h]
        else:
            os.environ.pop(k, None)
    os.environ['USER_IS_ADMIN'] = '1' if environ.get('HTTP_X_APPENGINE_USER_IS_ADMIN') == '1' else '0'
    if not script:
        return _fail(start_response, '404 Not Found', 'No script handler takes this URL.')
    try:
        app = _load(script)
    except BundledServiceMissing as e:
        return _fail(start_response, '502 Bad Gateway',
                     'Importing %s called the bundled service %s (%s), which the local host does not provide.' % (script, _service(e.name), e.name))
    except Exception:
        return _fail(start_response, '502 Bad Gateway',
                     'Importing %s under Python 2.7 failed: %s' % (script, traceback.format_exc().strip().splitlines()[-1]))
    out = {}

    def keep(status, headers, exc_info=None):
        out['status'], out['headers'] = status, headers
        return lambda data: out.setdefault('body', []).append(data)

    try:
        body = list(app(environ, keep))
    except BundledServiceMissing as e:
        return _fail(start_response, '502 Bad Gateway',
                     '%s called the bundled service %s (%s), which the local host does not provide.' % (script, _service(e.name), e.name))
    start_response(out.get('status', '500 Internal Server Error'), out.get('headers', []))
    return out.get('body', []) + body


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass  # serve writes the request log


def main():
    here = os.getcwd()
    sys.path.insert(0, here)
    args, wanted, sdk_lib = sys.argv[1:], {}, None
    while args:
        flag, value, args = args[0], args[1], args[2:]
        if flag == '--sdk-lib':
            sdk_lib = value
        elif flag == '--library':
            name, _, version = value.partition('=')
            wanted[name] = version
    if sdk_lib:
        sys.meta_path.append(_SDKLibraries(sdk_lib, wanted))
    sys.meta_path.append(_BundledImporter())
    os.environ.setdefault('SERVER_SOFTWARE', 'Development/2.0')
    os.environ['APPLICATION_ID'] = os.environ.get('GAE_APPLICATION', '')
    os.environ['CURRENT_VERSION_ID'] = os.environ.get('GAE_VERSION', '') + '.1'
    os.environ['CURRENT_MODULE_ID'] = os.environ.get('GAE_SERVICE', '')
    root = logging.getLogger()
    root.handlers = [_JSONLog()]
    root.setLevel(logging.DEBUG)
    server = make_server('127.0.0.1', int(os.environ['PORT']), application, handler_class=_Quiet)
    server.serve_forever()


if __name__ == '__main__':
    main()
