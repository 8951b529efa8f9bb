"""Fake platforms for connector tests: each module serves one platform's API in its real response shape
(payload builders plus request handlers for :class:`fakeapi.FakeAPI`)."""
