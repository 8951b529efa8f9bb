import pytest
from harness import SOURCES_E2E, broker, new_worker, tiny_models, worker_env  # noqa: F401


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    results = config.stash.get(SOURCES_E2E, {})
    if results:
        passed = sorted(s for s, r in results.items() if r == "passed")
        failed = sorted(s for s, r in results.items() if r != "passed")
        line = f"sources end to end: {len(passed)}/{len(results)} passed ({', '.join(passed) or 'none'})"
        terminalreporter.write_line(line + (f"; failed: {', '.join(failed)}" if failed else ""))
