//! A per-key token bucket: per address for posts and wrong credentials, per user name for
//! failed sign-ins.
//!
//! Kept in memory, per process: collectors sharing one PostgreSQL database each count their
//! own posts, so behind a balancer a client may post once per collector at the full rate.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Most addresses tracked before idle, full buckets are dropped.
const MAX_TRACKED: usize = 10_000;

/// Allows `burst` tokens at once per key (an address, by default), refilled at `per_minute`.
#[derive(Debug)]
pub struct RateLimit<K = IpAddr> {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// A limit of `per_minute` posts (0: unlimited) with bursts of `burst`.
    pub fn new(per_minute: u32, burst: u32) -> RateLimit<K> {
        RateLimit {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`.
    ///
    /// # Errors
    /// The seconds until a token is available, when none is.
    pub fn check(&self, key: impl Into<K>) -> Result<(), u64> {
        self.check_at(key.into(), Instant::now())
    }

    /// Whether `key` has a token left, without taking it.
    ///
    /// # Errors
    /// The seconds until a token is available, when none is.
    pub fn peek(&self, key: impl Into<K>) -> Result<(), u64> {
        self.take_at(key.into(), Instant::now(), false)
    }

    fn check_at(&self, key: K, now: Instant) -> Result<(), u64> {
        self.take_at(key, now, true)
    }

    fn take_at(&self, key: K, now: Instant, take: bool) -> Result<(), u64> {
        if self.per_second == 0.0 {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_TRACKED {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
        }
        let (tokens, at) = buckets.entry(key).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            if take {
                *tokens -= 1.0;
            }
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate() {
        let limit: RateLimit = RateLimit::new(60, 3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.check_at(ip, t0), Ok(()));
        }
        assert_eq!(limit.check_at(ip, t0), Err(1));
        assert_eq!(
            limit.check_at(other, t0),
            Ok(()),
            "addresses have their own buckets"
        );
        assert_eq!(
            limit.take_at(ip, t0, false),
            Err(1),
            "peeking takes nothing"
        );
        assert_eq!(limit.check_at(ip, t0 + Duration::from_millis(1100)), Ok(()));
        assert_eq!(
            RateLimit::<IpAddr>::new(0, 1).check_at(ip, t0),
            Ok(()),
            "0 means no limit"
        );
    }
}
