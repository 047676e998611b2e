"""Reads RSA keys in PEM form with pure-Python packages.

The shape of oauth2client's module of the same name, copied into many
python27 apps: the PEM markers it looks for are string constants.
"""
import rsa

_PKCS1_MARKER = ('-----BEGIN RSA PRIVATE KEY-----',
                 '-----END RSA PRIVATE KEY-----')
_PKCS8_MARKER = ('-----BEGIN PRIVATE KEY-----',
                 '-----END PRIVATE KEY-----')


def _find_block(text, markers):
    for index, (start, end) in enumerate(markers):
        begin = text.find(start)
        if begin >= 0:
            stop = text.find(end, begin)
            return index, text[begin + len(start):stop]
    raise ValueError('No key could be detected.')


class RsaSigner(object):
    """Signs messages with a private key."""

    def __init__(self, pkey):
        self._key = pkey

    @classmethod
    def from_string(cls, key, password='notasecret'):
        marker, body = _find_block(key, (_PKCS1_MARKER, _PKCS8_MARKER))
        if marker == 0:
            return cls(rsa.PrivateKey.load_pkcs1(body, format='PEM'))
        return cls(rsa.PrivateKey.load_pkcs1(body, format='DER'))
