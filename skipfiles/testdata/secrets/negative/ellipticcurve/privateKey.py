# The shape of the ellipticcurve package's privateKey.py: it writes and
# reads EC keys, so the PEM type and header appear in its code.
from .der import fromPem, toPem, encodeSequence


class PrivateKey:

    def __init__(self, curve, secret=None):
        self.curve = curve
        self.secret = secret

    def toDer(self):
        return encodeSequence(self.curve.encode(self.secret))

    def toPem(self):
        return toPem(der=self.toDer(), name="EC PRIVATE KEY")

    @classmethod
    def fromPem(cls, string):
        privkeyPem = string[string.index("-----BEGIN EC PRIVATE KEY-----"):]
        return cls.fromDer(fromPem(privkeyPem))
