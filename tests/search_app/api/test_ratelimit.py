"""search_app.api.ratelimit: one set of buckets for every worker process."""
import os

from search_app.api.ratelimit import RateLimiter


def test_the_buckets_are_shared_with_a_forked_process():
    """A child forked after the limiter is made spends the parent's tokens,
    as the server's workers do (they are forked after the app is built)."""
    now = [0.0]
    limiter = RateLimiter(10, clock=lambda: now[0])
    for _ in range(4):
        assert limiter.take("203.0.113.7").allowed
    pid = os.fork()
    if pid == 0:  # the child: spends 6 more, so the 11th overall is refused
        spent = [limiter.take("203.0.113.7").allowed for _ in range(7)]
        os._exit(0 if spent == [True] * 6 + [False] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    refused = limiter.take("203.0.113.7")
    assert not refused.allowed and refused.retry_after == 6      # ten a minute: one every 6 s
    assert limiter.take("198.51.100.1").allowed                   # another address has its own bucket


def test_pruning_forgets_refilled_buckets_and_keeps_the_others_with_their_tokens():
    now = [0.0]
    limiter = RateLimiter(60, max_clients=3, clock=lambda: now[0])
    for _ in range(60):
        limiter.take("busy")             # emptied at 0 s: full again at 60 s
    now[0] = 30.0
    limiter.take("a")
    now[0] = 100.0
    limiter.take("b")                    # three kept: the table is full
    assert len(limiter) == 3
    limiter.take("c")                    # "busy" and "a" have refilled: forgotten
    assert len(limiter) == 2
    assert all(limiter.take("b").allowed for _ in range(59))
    assert not limiter.take("b").allowed   # "b" kept its bucket through the pruning
    assert limiter.take("busy").allowed    # forgotten = as good as new


def test_when_nothing_has_refilled_everyone_is_forgotten_rather_than_grow():
    now = [0.0]
    limiter = RateLimiter(60, max_clients=2, clock=lambda: now[0])
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")
    assert len(limiter) == 1
