//! Stopping a run: on Ctrl-C, or when no row can succeed. Requests in flight finish; nothing new
//! is sent. The first reason given is the one kept.

use tokio::sync::watch;

use super::summary::Ending;

#[derive(Clone)]
pub struct Stop {
    tx: watch::Sender<Option<Ending>>,
}

impl Stop {
    pub fn new() -> Self {
        Self {
            tx: watch::Sender::new(None),
        }
    }

    pub fn request(&self, why: Ending) {
        self.tx.send_if_modified(|reason| {
            if reason.is_none() {
                *reason = Some(why);
                true
            } else {
                false
            }
        });
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<Ending> {
        self.tx.borrow().clone()
    }

    /// Wait until a stop is requested.
    pub async fn requested(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(Option::is_some).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_stands_and_waiters_wake() {
        let stop = Stop::new();
        assert_eq!(stop.reason(), None);
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        stop.request(Ending::Interrupted);
        stop.request(Ending::Fatal("later".into()));
        waiter.await.unwrap();
        assert_eq!(stop.reason(), Some(Ending::Interrupted));
        // Already stopped: returns at once.
        stop.requested().await;
    }
}
