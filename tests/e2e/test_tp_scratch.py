import time
from datetime import UTC, datetime, timedelta
from harness import create_topics, produce_mentions, wait_for
from connectors.demo import DemoStream

def test_tp(broker, new_worker):
    ms = DemoStream(seed=5, start=datetime.now(UTC) - timedelta(hours=1), rate_per_s=4).take(10000)
    create_topics(broker.bootstrap_servers)
    t = time.monotonic()
    w = new_worker()
    print("start", time.monotonic() - t)
    t = time.monotonic()
    produce_mentions(broker.bootstrap_servers, ms)
    print("produce", time.monotonic() - t)
    t = time.monotonic()
    last = 0
    while True:
        n = w.sql("SELECT count() FROM mentions_v")[0][0]
        if n != last:
            print(round(time.monotonic() - t, 1), n)
            last = n
        if n == 10000:
            break
        time.sleep(0.5)
    t = time.monotonic()
    print("stop rc", w.stop(), time.monotonic() - t)
