import os

DEBUG = False
# The key the app signs its API requests with.
SIGNING_KEY = """{{rsa-pkcs1}}"""
