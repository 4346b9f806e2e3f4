"""The Python package on the seed example: decisions equal the CLI's, errors are exceptions.

Run by ipe-capi's cargo test `tests/python.rs`, which builds the library and sets:
IPE_CAPI_LIB (the shared library), IPE_TEST_BUNDLE (the compiled seed bundle),
IPE_TEST_REQUESTS (the seed requests) and IPE_TEST_CLI (the CLI's decision per request).
"""

import json
import os
import threading
import unittest

import ipe_capi as ipe  # the C ABI's ctypes package (the PyO3 package is `ipe`, crate ipe-py)


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line.strip()]


class SeedTest(unittest.TestCase):
    def setUp(self):
        self.path = os.environ["IPE_TEST_BUNDLE"]
        self.requests = [json.loads(line) for line in _lines(os.environ["IPE_TEST_REQUESTS"])]
        self.cli = _lines(os.environ["IPE_TEST_CLI"])
        self.assertEqual(len(self.requests), len(self.cli))

    def test_decisions_equal_the_cli(self):
        with ipe.Bundle.open(self.path) as bundle:
            self.assertEqual(bundle.policy_count, 1)
            for request, cli in zip(self.requests, self.cli):
                self.assertEqual(bundle.decide(request), json.loads(cli))
                # The text form is byte for byte what `ipe eval` prints.
                self.assertEqual(bundle.decide_json(request), cli)
            self.assertEqual(bundle.decide(self.requests[0])["decision"], "allow")
            denied = bundle.decide(self.requests[1])
            self.assertEqual(denied["decision"], "deny")
            self.assertEqual(denied["violations"][0]["policy"], "RequireApproval")

    def test_missing_attribute_is_an_error_in_the_decision(self):
        with ipe.Bundle.open(self.path) as bundle:
            d = bundle.decide(
                {
                    "resource": {"type": "Deployment", "risk_level": "high"},
                    "environment": "production",
                    "requester": {"department": "payments"},
                }
            )
            self.assertEqual(d["decision"], "deny")
            self.assertEqual(d["errors"][0]["policy"], "RequireApproval")
            self.assertIn("approvals", d["errors"][0]["error"])

    def test_errors_are_exceptions(self):
        with self.assertRaises(ipe.BundleError) as e:
            ipe.Bundle.open(self.path + ".missing")
        self.assertEqual(e.exception.status_name, "IPE_STATUS_IO")
        with self.assertRaises(ipe.BundleError) as e:
            ipe.Bundle.from_bytes(b"not a bundle")
        self.assertEqual(e.exception.status_name, "IPE_STATUS_BAD_BUNDLE")
        with ipe.Bundle.open(self.path) as bundle:
            for bad in ['{"a":1,"a":2}', "[1]", "{"]:
                with self.assertRaises(ipe.RequestError) as e:
                    bundle.decide(bad)
                self.assertTrue(e.exception.message.startswith("malformed request"), bad)
        with self.assertRaises(ValueError):
            bundle.decide({})

    def test_swap_and_reload(self):
        with open(self.path, "rb") as f:
            data = f.read()
        with ipe.Bundle.from_bytes(data) as bundle:
            self.assertEqual(bundle.version, 1)
            with self.assertRaises(ipe.BundleError):
                bundle.swap(data[: len(data) // 2])
            self.assertEqual(bundle.version, 1)
            self.assertEqual(bundle.swap(data), 2)
            with self.assertRaises(ipe.IpeError) as e:
                bundle.reload()
            self.assertEqual(e.exception.status_name, "IPE_STATUS_NO_SOURCE")
        with ipe.Bundle.open(self.path) as bundle:
            self.assertEqual(bundle.reload(), 2)

    def test_threads_share_a_bundle(self):
        with ipe.Bundle.open(self.path) as bundle:
            want = [json.loads(c) for c in self.cli]
            failures = []

            def work():
                for _ in range(20):
                    for request, expected in zip(self.requests, want):
                        if bundle.decide(request) != expected:
                            failures.append(request)

            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
