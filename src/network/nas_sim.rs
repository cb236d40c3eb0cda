//! A NAS simulator for tests and the demo: answers RFC 5176 requests over UDP.
