//! DynamoDB's and SES's faults as the services produce them (throttling, 5xx, cancelled
//! transactions, refused mail, answers that never come), from a scripted endpoint: which calls
//! are tried again under the policy of shared/src/aws_calls.rs, which are answered at once, and
//! that the answer a client then gets is the right one (docs/security.md F2, F4; docs/dynamodb.md,
//! "Faults and retries").

use std::sync::Arc;
use std::time::{Duration, Instant};

use latch::aws_calls::AwsCallPolicy;
use latch::mail::ses::Ses;
use latch::store::dynamo::{DynamoStore, CANCELLED_TRANSACTION_ATTEMPTS};
use latch::store::{Store, StoreError};
use latch_tests::aws_stub::{Reply, ScriptedAws, POLICY};
use latch_tests::faults::InjectFaults;
use latch_tests::{b2b, email, Backend, TestApp, STRONG};
use serde_json::{json, Value};

use crate::conformance::user;

fn throttled() -> Reply {
    Reply::error(400, "ProvisionedThroughputExceededException")
}

/// A cancelled transaction, one reason per action.
fn cancelled(reasons: &[&str]) -> Reply {
    let reasons: Vec<Value> = reasons.iter().map(|r| json!({"Code": r})).collect();
    let mut reply = Reply::error(400, "TransactionCanceledException");
    reply.body["CancellationReasons"] = Value::Array(reasons);
    reply
}

async fn dynamo(replies: Vec<Reply>, otherwise: Reply) -> (DynamoStore, ScriptedAws) {
    let aws = ScriptedAws::start(replies, otherwise).await;
    let client = aws_sdk_dynamodb::Client::new(&aws.config(&POLICY).await);
    (DynamoStore::new(client, "latch"), aws)
}

fn outage<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Unavailable(detail)) => detail,
        other => panic!("expected an outage, got {other:?}"),
    }
}

fn attempts(aws: &ScriptedAws, operation: &str) -> usize {
    let seen = aws.seen();
    assert!(
        seen.iter()
            .all(|s| s.target == format!("DynamoDB_20120810.{operation}")),
        "{seen:?}"
    );
    seen.len()
}

#[tokio::test]
async fn f4_a_throttled_read_is_tried_again_and_then_answered() {
    let (store, aws) = dynamo(vec![throttled(), throttled()], Reply::ok(json!({}))).await;
    assert!(store.user_by_email(None, "a@example.com").await.unwrap().is_none());
    assert_eq!(attempts(&aws, "GetItem"), 3);
}

#[tokio::test]
async fn f4_a_call_throttled_on_every_try_is_an_outage_after_the_policys_attempts() {
    let all = AwsCallPolicy::DEPLOYED.max_attempts as usize;
    let (store, aws) = dynamo(vec![], throttled()).await;
    let detail = outage(store.user_by_email(None, "a@example.com").await);
    assert!(detail.contains("ProvisionedThroughputExceededException"), "{detail}");
    assert_eq!(attempts(&aws, "GetItem"), all);

    let (store, aws) = dynamo(vec![], Reply::error(400, "ThrottlingException")).await;
    outage(
        store
            .hit_rate_limit("reset_start:a@example.com", chrono::Utc::now())
            .await,
    );
    assert_eq!(attempts(&aws, "UpdateItem"), all);
}

#[tokio::test]
async fn f4_a_server_error_is_tried_again() {
    let replies = vec![
        Reply::error(500, "InternalServerError"),
        Reply::error(503, "ServiceUnavailable"),
    ];
    let (store, aws) = dynamo(replies, Reply::ok(json!({}))).await;
    store.create_user(&user("a@example.com"), None).await.unwrap();
    assert_eq!(attempts(&aws, "TransactWriteItems"), 3);
}

#[tokio::test]
async fn f4_a_refused_request_is_answered_at_once() {
    // A failed condition is the answer the caller branches on (here: the email is taken).
    let (store, aws) = dynamo(vec![], cancelled(&["ConditionalCheckFailed", "None"])).await;
    assert!(matches!(
        store.create_user(&user("a@example.com"), None).await,
        Err(StoreError::DuplicateEmail)
    ));
    assert_eq!(attempts(&aws, "TransactWriteItems"), 1);

    // A validation error will not pass on a second try.
    let (store, aws) = dynamo(vec![], Reply::error(400, "ValidationException")).await;
    outage(store.user_by_email(None, "a@example.com").await);
    assert_eq!(attempts(&aws, "GetItem"), 1);
}

#[tokio::test]
async fn f4_a_transaction_cancelled_for_another_or_for_throttling_is_sent_again() {
    let replies = vec![
        cancelled(&["TransactionConflict", "None"]),
        cancelled(&["None", "ThrottlingError"]),
    ];
    let (store, aws) = dynamo(replies, Reply::ok(json!({}))).await;
    store.create_user(&user("a@example.com"), None).await.unwrap();
    assert_eq!(attempts(&aws, "TransactWriteItems"), 3);

    // Cancelled for a conflict every time: an outage after the adapter's tries.
    let (store, aws) = dynamo(vec![], cancelled(&["TransactionConflict", "None"])).await;
    outage(store.create_user(&user("a@example.com"), None).await);
    assert_eq!(
        attempts(&aws, "TransactWriteItems"),
        CANCELLED_TRANSACTION_ATTEMPTS as usize
    );

    // A conflict beside a failed condition is the condition's answer.
    let (store, aws) = dynamo(vec![], cancelled(&["ConditionalCheckFailed", "TransactionConflict"])).await;
    assert!(matches!(
        store.create_user(&user("a@example.com"), None).await,
        Err(StoreError::DuplicateEmail)
    ));
    assert_eq!(attempts(&aws, "TransactWriteItems"), 1);
}

#[tokio::test]
async fn f4_a_transaction_whose_answer_was_lost_is_retried_with_the_same_token() {
    // The first attempt reaches the service (it may have committed) and its answer does not come
    // back in time: the retry carries the same client request token, which DynamoDB answers as
    // that committed transaction instead of running it again (no second user, no second use).
    let first = Reply::ok(json!({})).after(POLICY.attempt_timeout * 3);
    let (store, aws) = dynamo(vec![first], Reply::ok(json!({}))).await;
    store.create_user(&user("a@example.com"), None).await.unwrap();
    assert_eq!(attempts(&aws, "TransactWriteItems"), 2);
    let seen = aws.seen();
    let token = seen[0].body["ClientRequestToken"].as_str().unwrap();
    assert!(!token.is_empty());
    assert_eq!(seen[1].body["ClientRequestToken"], token);
    assert_eq!(seen[0].body, seen[1].body);
}

#[tokio::test]
async fn f4_a_silent_service_is_an_outage_within_the_calls_time() {
    let (store, aws) = dynamo(vec![], Reply::ok(json!({})).after(Duration::from_secs(30))).await;
    let began = Instant::now();
    outage(store.user_by_email(None, "a@example.com").await);
    // Bounded by the policy, not by the service: far short of the 30 s it would wait.
    assert!(began.elapsed() < POLICY.operation_timeout + Duration::from_secs(3));
    assert_eq!(attempts(&aws, "GetItem"), POLICY.max_attempts as usize);
}

/// An app whose mail goes to a scripted SES.
async fn app_with_ses(replies: Vec<Reply>, otherwise: Reply) -> (TestApp, ScriptedAws) {
    let ses = ScriptedAws::start(replies, otherwise).await;
    let client = aws_sdk_sesv2::Client::new(&ses.config(&POLICY).await);
    let app = TestApp::spawn_custom(&[], Some(Arc::new(Ses::new(client, None)))).await;
    (app, ses)
}

fn sends(ses: &ScriptedAws) -> Vec<Value> {
    let seen = ses.seen();
    assert!(seen.iter().all(|s| s.path == "/v2/email/outbound-emails"), "{seen:?}");
    seen.into_iter().map(|s| s.body).collect()
}

#[tokio::test]
async fn f2_a_throttled_mail_service_is_tried_again_with_the_same_mail() {
    let throttled = Reply::error(429, "TooManyRequestsException");
    let sent = Reply::ok(json!({"MessageId": "scripted-1"}));
    let (app, ses) = app_with_ses(vec![throttled.clone(), throttled], sent).await;
    let e = email("ses-throttled");
    app.create_user(&e, STRONG, None).await;
    app.reset_start(&e, json!({})).await.assert_ok();
    let sends = sends(&ses);
    assert_eq!(sends.len(), 3);
    // The same links each time: a mail that did go out before its answer was lost works too.
    assert!(sends.iter().all(|s| *s == sends[0]));
    assert_eq!(app.token_count().await, 2);
}

/// A reset start whose mail SES answers with `fault` every time: `email_send_failed` saying
/// `says`, after `sends` tries, and no token stored.
async fn reset_start_meets(fault: Reply, says: &str, sends_expected: usize) -> TestApp {
    let (app, ses) = app_with_ses(vec![], fault).await;
    let e = email("ses-failing");
    app.create_user(&e, STRONG, None).await;
    let answer = app.reset_start(&e, json!({})).await;
    answer.assert_error(503, "email_send_failed");
    assert!(
        answer.body["error_message"].as_str().unwrap().contains(says),
        "{}",
        answer.body
    );
    assert_eq!(sends(&ses).len(), sends_expected);
    assert_eq!(app.token_count().await, 0);
    app
}

#[tokio::test]
async fn f2_a_mail_service_throttled_on_every_try_leaves_no_token_and_says_retry() {
    let throttled = Reply::error(429, "TooManyRequestsException");
    reset_start_meets(throttled, "Retry later", AwsCallPolicy::DEPLOYED.max_attempts as usize).await;
}

#[tokio::test]
async fn f2_a_mail_service_failing_with_5xx_on_every_try_is_an_outage_and_leaves_no_token() {
    // A 5xx from SES is SES's outage, not the caller's fault: tried again, then 503 "Retry later".
    let failing = Reply::error(500, "InternalFailure");
    reset_start_meets(failing, "Retry later", AwsCallPolicy::DEPLOYED.max_attempts as usize).await;
}

#[tokio::test]
async fn f2_a_mail_the_service_refuses_is_not_sent_again_and_leaves_no_token() {
    // F2 for a refusal (an unverified sender or recipient, a paused account): sending it again
    // would be refused again, so it is not, and the answer says so.
    let app = reset_start_meets(Reply::error(400, "MessageRejected"), "refused", 1).await;
    assert!(app.orphans().await.is_empty());
}

#[tokio::test]
async fn f5_an_organization_delete_cut_short_at_any_step_harms_no_other_member_and_its_retry_finishes_it() {
    // SQLite deletes an organization in one transaction; on DynamoDB it is the organization's
    // transaction, then one per member (docs/dynamodb.md, "What is not one transaction"). The
    // delete runs behind a fault proxy that carries out its k-th request and fails everything
    // after, for k = 1, 2, … until a delete runs through.
    let app = TestApp::spawn().await;
    let Backend::Dynamo {
        table,
        endpoint,
        config,
        ..
    } = &app.backend
    else {
        eprintln!("skipped: DynamoDB only (LATCH_TEST_BACKEND=dynamodb); SQLite's delete is one transaction");
        return;
    };
    let proxy = ScriptedAws::proxy(endpoint).await;
    let cut_short = DynamoStore::new(proxy.dynamodb_in_front_of(config), table);
    for k in 1.. {
        let doomed = b2b::id(&b2b::create_org(&app, &format!("doomed-{k}"), json!({})).await);
        let kept = b2b::id(&b2b::create_org(&app, &format!("kept-{k}"), json!({})).await);
        let shared = email("cut-short");
        let mut doomed_members = Vec::new();
        for address in [shared.clone(), email("cut-short-a"), email("cut-short-b")] {
            let m = b2b::create_member(&app, &doomed, &address, json!({})).await;
            doomed_members.push(m["member_id"].as_str().unwrap().to_string());
        }
        b2b::member_with_password(&app, &kept, &shared, STRONG, json!({})).await;

        proxy.fail_after_commit_in(k);
        let result = cut_short.delete_organization(&doomed).await;
        let cut = proxy.fired();
        proxy.disarm();
        // The other organization's member with the same address is whole and logs in.
        b2b::login(&app, &kept, &shared, STRONG).await.assert_ok();
        let store = &app.state.store;
        if !cut {
            assert!(result.unwrap(), "the delete ran through at k = {k}");
        } else {
            outage(result);
            // Whatever of the doomed organization is left is no membership of the address.
            let listed = store.members_with_email(&shared).await.unwrap();
            let still = store.organization_by_id(&doomed).await.unwrap().is_some();
            assert!(
                listed.iter().all(|m| m.organization_id() == Some(kept.as_str())) || still,
                "k = {k}: a member of a deleted organization is still listed: {listed:?}"
            );
            // The client's retry finishes it: 200 if the organization was still there, else the
            // answer for a deleted organization.
            let retry = app.delete(&format!("/v1/b2b/organizations/{doomed}")).await;
            if still {
                retry.assert_ok();
            } else {
                retry.assert_error(404, "organization_not_found");
            }
        }
        for member_id in &doomed_members {
            assert!(
                store.user_by_id(member_id).await.unwrap().is_none(),
                "k = {k}: {member_id} left"
            );
        }
        assert!(store.organization_by_id(&doomed).await.unwrap().is_none());
        assert!(app.orphans().await.is_empty(), "k = {k}: {:?}", app.orphans().await);
        if !cut {
            assert!(k > 3, "the delete should take several requests, took {k}");
            break;
        }
    }
}

#[tokio::test]
async fn f5_a_shared_password_reset_cut_short_at_any_step_changes_every_membership_or_none() {
    // Cross-organization passwords: the reset and the copies to the email's other memberships
    // are one transaction, so a reset cut short after any of its DynamoDB requests leaves the
    // old password in every organization or the new one in every organization, never the old
    // one still working somewhere (docs/b2b.md "Passwords").
    let settings = [
        ("LATCH_B2B_CROSS_ORG_PASSWORDS", "true"),
        ("LATCH_RESET_START_LIMIT", "1000"),
    ];
    let Some(app) = TestApp::spawn_behind_aws_proxy_with(&settings).await else {
        eprintln!("skipped: DynamoDB only (LATCH_TEST_BACKEND=dynamodb); SQLite's reset is one transaction");
        return;
    };
    let proxy = app.aws_proxy.clone().unwrap();
    let orgs = [
        b2b::id(&b2b::create_org(&app, "shared-a", json!({})).await),
        b2b::id(&b2b::create_org(&app, "shared-b", json!({})).await),
        b2b::id(&b2b::create_org(&app, "shared-c", json!({})).await),
    ];
    let e = email("shared-reset");
    b2b::member_with_password(&app, &orgs[0], &e, STRONG, json!({})).await;
    for org in &orgs[1..] {
        // Each joins with the email's password (inherited).
        b2b::create_member(&app, org, &e, json!({})).await;
    }
    let Backend::Dynamo { client, table, .. } = &app.backend else {
        unreachable!("behind the proxy means DynamoDB")
    };
    // Read past the proxy: the emulator's own view.
    let direct = DynamoStore::new(client.clone(), table);
    let hashes = || async {
        let listed = direct.members_with_email(&e).await.unwrap();
        assert_eq!(listed.len(), 3);
        listed
            .into_iter()
            .map(|m| m.password.expect("a password").hash)
            .collect::<Vec<_>>()
    };
    let mut password = STRONG.to_string();
    for k in 1.. {
        let before = hashes().await;
        let next = format!("{STRONG} round {k}");
        b2b::reset_start(&app, &orgs[0], &e).await.assert_ok();
        let (_, token) = app.b2b_link(&e, "multi_tenant_passwords").await;
        proxy.fail_after_commit_in(k);
        let answer = b2b::email_reset(&app, &token, &next).await;
        let cut = proxy.fired();
        proxy.disarm();
        let after = hashes().await;
        assert!(
            after.iter().all(|h| *h == after[0]),
            "k = {k}: memberships disagree: {after:?}"
        );
        if after != before {
            password = next;
        }
        if !cut {
            answer.assert_ok();
            assert_eq!(password, format!("{STRONG} round {k}"));
            assert!(k > 3, "the reset should take several requests, took {k}");
            break;
        }
        answer.assert_error(503, "service_unavailable");
    }
    for org in &orgs {
        b2b::login(&app, org, &e, &password).await.assert_ok();
    }
    assert!(app.orphans().await.is_empty(), "{:?}", app.orphans().await);
}
