//! The breach check's logs (SECURITY B3, B4): a failed lookup and the breaker's opening are
//! logged. Its own test binary, because it installs the process-wide log subscriber: a
//! thread-local one (`set_default`) missed events now and then while other tests ran beside it.

use std::time::Duration;

use latch_tests::{email, HibpMode, LogCapture, TestApp, STRONG};

/// SECURITY B3: a reset connection and a truncated body are outages like the others: signup and
/// login go through (fail open), and each failed lookup is logged.
#[tokio::test]
async fn b3_a_reset_connection_or_a_truncated_body_fails_open_and_is_logged() {
    for mode in [HibpMode::Reset, HibpMode::Truncated] {
        let (logs, _serial) = LogCapture::start().await;
        let app = TestApp::spawn_with(&[("LATCH_HIBP_TIMEOUT_MS", "800")]).await;
        // Before the first lookup: the mode applies to new connections.
        app.hibp.set_mode(mode);
        let e = email("b3-broken");
        app.create_user(&e, STRONG, None).await;
        app.login(&e, STRONG, None).await.assert_ok();
        assert_eq!(app.hibp.requests().len(), 2, "{mode:?}: signup and login each asked");
        assert_eq!(
            logs.count("breach check unavailable"),
            2,
            "{mode:?}: each failed lookup is logged: {}",
            logs.text()
        );
    }
}

/// SECURITY B4: while HIBP hangs, the breaker stops asking after `threshold` failures, so 20
/// logins cost a few timeouts, not 20; it logs once when it opens and once when it closes, and
/// after the cool-down one trial lookup finds the service back.
#[tokio::test]
async fn b4_a_hanging_service_is_bypassed_by_the_breaker() {
    let (logs, _serial) = LogCapture::start().await;
    let app = TestApp::spawn_with(&[
        ("LATCH_HIBP_TIMEOUT_MS", "200"),
        ("LATCH_HIBP_CACHE_SECONDS", "0"),
        ("LATCH_HIBP_BREAKER_THRESHOLD", "3"),
        ("LATCH_HIBP_BREAKER_COOLDOWN_SECONDS", "30"),
    ])
    .await;
    let e = email("b4");
    app.create_user(&e, STRONG, None).await;
    let before = app.hibp.requests().len();
    app.hibp.set_mode(HibpMode::Slow(Duration::from_secs(3600)));
    for _ in 0..20 {
        app.login(&e, STRONG, None).await.assert_ok();
    }
    let asked = app.hibp.requests().len() - before;
    assert!(asked <= 3 + 1, "20 logins asked the hanging service {asked} times");
    assert_eq!(
        logs.count("lookups skipped for the cool-down"),
        1,
        "opening is logged once: {}",
        logs.text()
    );
    // Still within the cool-down: no lookup.
    app.clock.advance(chrono::Duration::seconds(29));
    app.login(&e, STRONG, None).await.assert_ok();
    assert_eq!(app.hibp.requests().len() - before, asked);
    // After it, one trial lookup; the service answers again, so lookups resume.
    app.hibp.set_mode(HibpMode::Normal);
    app.clock.advance(chrono::Duration::seconds(2));
    app.login(&e, STRONG, None).await.assert_ok();
    app.login(&e, STRONG, None).await.assert_ok();
    assert_eq!(app.hibp.requests().len() - before, asked + 2);
    assert_eq!(
        logs.count("lookups resume"),
        1,
        "closing is logged once: {}",
        logs.text()
    );
    // A breach is caught again once the breaker has closed.
    app.hibp.mark_breached(STRONG);
    app.login(&e, STRONG, Some(60))
        .await
        .assert_error(401, "reset_password");
}
