//! Waiting for a decision: look, and look again every `--poll-interval` until one is
//! found or `--timeout` has passed. One loop for every source that is polled (decision
//! files, issue comments); the clock is a parameter so the loop can be tested without
//! waiting.

use std::time::{Duration, Instant};

/// How long to wait and how often to look.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Polling {
    pub timeout: Duration,
    pub interval: Duration,
}

/// The time, and a way to let it pass.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Debug)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

impl Polling {
    /// Calls `look` until it finds something or the timeout passes. It is called at
    /// least once, and once more at the deadline (sleeps never overshoot it). `Ok(None)`:
    /// nothing was found in time.
    pub(crate) fn until<T, E>(
        self,
        look: impl FnMut() -> Result<Option<T>, E>,
    ) -> Result<Option<T>, E> {
        self.until_with(&SystemClock, look)
    }

    fn until_with<T, E>(
        self,
        clock: &impl Clock,
        mut look: impl FnMut() -> Result<Option<T>, E>,
    ) -> Result<Option<T>, E> {
        let deadline = clock.now() + self.timeout;
        loop {
            if let Some(found) = look()? {
                return Ok(Some(found));
            }
            let now = clock.now();
            if now >= deadline {
                return Ok(None);
            }
            clock.sleep(self.interval.min(deadline - now));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    /// A clock that moves only when slept on, and remembers each sleep.
    struct FakeClock {
        start: Instant,
        elapsed: Cell<Duration>,
        sleeps: RefCell<Vec<Duration>>,
    }

    impl FakeClock {
        fn new() -> Self {
            Self {
                start: Instant::now(),
                elapsed: Cell::new(Duration::ZERO),
                sleeps: RefCell::new(Vec::new()),
            }
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + self.elapsed.get()
        }

        fn sleep(&self, duration: Duration) {
            self.elapsed.set(self.elapsed.get() + duration);
            self.sleeps.borrow_mut().push(duration);
        }
    }

    const POLLING: Polling = Polling {
        timeout: Duration::from_secs(25),
        interval: Duration::from_secs(10),
    };

    #[test]
    fn silence_ends_at_the_deadline_without_overshooting_it() {
        let clock = FakeClock::new();
        let mut looks = 0;
        let found: Result<Option<()>, ()> = POLLING.until_with(&clock, || {
            looks += 1;
            Ok(None)
        });
        assert_eq!(found, Ok(None));
        assert_eq!(looks, 4, "at 0s, 10s, 20s and the deadline");
        assert_eq!(
            *clock.sleeps.borrow(),
            [10, 10, 5].map(Duration::from_secs).to_vec()
        );
    }

    #[test]
    fn the_first_find_ends_the_wait() {
        let clock = FakeClock::new();
        let mut looks = 0;
        let found: Result<Option<u32>, ()> = POLLING.until_with(&clock, || {
            looks += 1;
            Ok((looks == 2).then_some(7))
        });
        assert_eq!(found, Ok(Some(7)));
        assert_eq!(*clock.sleeps.borrow(), vec![Duration::from_secs(10)]);
    }

    #[test]
    fn an_error_ends_the_wait() {
        let clock = FakeClock::new();
        let found: Result<Option<()>, &str> = POLLING.until_with(&clock, || Err("gone"));
        assert_eq!(found, Err("gone"));
        assert!(clock.sleeps.borrow().is_empty());
    }
}
