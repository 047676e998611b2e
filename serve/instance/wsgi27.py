# -*- coding: utf-8 -*-
"""The local host's python27 runner (appcfg serve): runs the version's WSGI
apps (app.yaml's `script: main.app`) under Python 2.7, as the SDK's dev
server did, on $PORT.

argv: the runner, then the SDK's bundled library directories to add (each
holding one library), if any were found. serve names the script of each
request in X-Appcfg-Script. google.appengine's bundled services (ndb,
memcache, users, taskqueue ...) are not provided: a call into one answers
502 naming it.
"""
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


class _Missing(object):
    """Any name of a bundled service's module: using it raises."""

    def __init__(self, name, *rest):
        self._name = name

    def __call__(self, *args, **kwargs):
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
        __import__(module)
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
    for d in sys.argv[1:]:
        sys.path.append(d)
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
