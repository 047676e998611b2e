"""Tests of the guestbook; kept out of the upload by skip_files."""
import unittest


class SmokeTest(unittest.TestCase):
    def test_import(self):
        import main  # noqa: F401


if __name__ == '__main__':
    unittest.main()
