//! The DynamoDB store: one table, `pk`/`sk`, TTL on `expires_at`. Uniqueness by guard items in
//! transactions, single use and counters by conditional writes, consistent reads where
//! correctness needs them, expiry checked in code. The layout is in docs/dynamodb.md.

pub mod items;
pub mod table;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::*;
use crate::bounded_map::BoundedMap;
use crate::lockout;
use items::*;

/// Attempts of an optimistic read-modify-write before giving up as unavailable. With the
/// backoff below, 50 writers racing on one user (an attack on one account) all get through.
const OPTIMISTIC_ATTEMPTS: u32 = 48;

/// Wait before retrying a write that lost a race: exponential up to 100 ms, with full jitter so
/// the racers spread out instead of colliding again.
async fn backoff(attempt: u32) {
    use rand::Rng;
    let cap_ms = (2u64 << attempt.min(6)).min(100);
    let ms = rand::thread_rng().gen_range(1..=cap_ms);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}
/// DynamoDB's limit on actions in one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// Members `delete_organization` deletes at once.
const MEMBER_DELETE_PARALLELISM: usize = 8;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Shared by the clones of one store.
    addresses: std::sync::Arc<Addresses>,
}

/// How many token digests and users [`Addresses`] holds each (`BoundedMap`: dropped when full).
/// An entry is a few hundred bytes.
const ADDRESSES: usize = 65_536;

/// What this process learnt of the table's layout, so that `session_context` names every item a
/// session authenticate reads in one `BatchGetItem` instead of following pointers (docs/reference/
/// performance-facts.md, "The session hot path"). Neither is trusted for anything but where to look: the items are read
/// consistently on every call, so a revoked session, a deleted user, an expired session are seen
/// at the next call as before.
struct Addresses {
    /// A token digest's session and user ids: fixed for the token's life (a token names one
    /// session, a session one user), so an entry is never wrong, at worst about a session gone.
    sessions: BoundedMap<String, (String, String)>,
    /// Where a user's item is: it moves only when its email key changes (an email change is one
    /// transaction that deletes it at the old key), so the item found there is the user's only if
    /// it names the user; anything else falls back to the pointer.
    users: BoundedMap<String, UserAddress>,
}

#[derive(Clone)]
struct UserAddress {
    email_key: String,
    /// A member's organization, which never changes.
    organization_id: Option<String>,
}

/// Any SDK failure that is not a condition we asked for: throttling, timeouts, network, or a
/// service error. The operation did not (fully) happen; it may be retried.
fn unavailable<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let detail = match e.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or_default()
        ),
        None => format!("{e:?}"),
    };
    StoreError::Unavailable(detail)
}

/// Whether a conditional write happened (`true`) or was refused because its condition did not
/// hold (`false`: the outcome the caller branches on); any other failure is the outage it is.
fn conditional<O, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<O, SdkError<E, R>>,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// `condition` and that the item's credential epoch (`#ce`) is `epoch` (`:e`); an item written
/// before the attribute existed counts as epoch 0.
fn epoch_condition(condition: &str, epoch: u64) -> String {
    if epoch == 0 {
        format!("{condition} AND (attribute_not_exists(#ce) OR #ce = :e)")
    } else {
        format!("{condition} AND #ce = :e")
    }
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("request could not be built: {e}"))
}

/// Which actions of a cancelled transaction failed their condition.
fn cancelled_conditions(e: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<Vec<bool>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => Some(
            c.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

/// Why DynamoDB cancels a transaction that another try may pass: another transaction held an
/// item, or one item's partition was throttled. Nothing of a cancelled transaction is written.
const RETRYABLE_CANCELLATIONS: [&str; 3] = [
    "TransactionConflict",
    "ProvisionedThroughputExceeded",
    "ThrottlingError",
];
/// Tries of a transaction cancelled only for those reasons.
pub const CANCELLED_TRANSACTION_ATTEMPTS: u32 = 4;

/// Whether a transaction was cancelled only for reasons another try may pass (a refused
/// condition is an answer, never retried).
fn cancelled_to_retry(e: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() else {
        return false;
    };
    let mut reasons = c
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .filter(|&code| code != "None")
        .peekable();
    reasons.peek().is_some() && reasons.all(|code| RETRYABLE_CANCELLATIONS.contains(&code))
}

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(Into::into));
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(build_err)?)
        .build())
}

fn delete(table: &str, key: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.map(Into::into));
    Ok(TransactWriteItem::builder()
        .delete(delete.build().map_err(build_err)?)
        .build())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            addresses: std::sync::Arc::new(Addresses {
                sessions: BoundedMap::new(ADDRESSES),
                users: BoundedMap::new(ADDRESSES),
            }),
        }
    }

    /// The user and version a user item holds, its address remembered for `session_context`.
    fn read_user(&self, item: &Item) -> Result<(UserRecord, i64), StoreError> {
        let (user, version) = user_from_item(item)?;
        self.addresses.users.insert(
            user.user_id.clone(),
            UserAddress {
                email_key: user.email_key(),
                organization_id: user.organization_id().map(str::to_string),
            },
        );
        Ok((user, version))
    }

    /// The items at `keys` that exist, read consistently in `BatchGetItem`s of at most 100 keys
    /// (its limit), unprocessed keys asked for again.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending: Option<Vec<Item>> = Some(chunk.to_vec());
            for attempt in 0..OPTIMISTIC_ATTEMPTS {
                let Some(batch) = pending.take().filter(|b| !b.is_empty()) else {
                    break;
                };
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(batch))
                    .consistent_read(true)
                    .build()
                    .map_err(build_err)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                items.extend(
                    out.responses
                        .unwrap_or_default()
                        .remove(&self.table)
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys);
                // Keys come back unprocessed when the table is throttled: asking again at once
                // would only be throttled again (AWS asks for a backoff here).
                if pending.as_ref().is_some_and(|p| !p.is_empty()) {
                    backoff(attempt).await;
                }
            }
            if pending.is_some_and(|p| !p.is_empty()) {
                return Err(StoreError::Unavailable("items could not all be read; retry".into()));
            }
        }
        Ok(items)
    }

    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// Run one transaction. The SDK retries what it may (aws_calls.rs), each retry with the same
    /// client request token, so a transaction that committed before its answer was lost is
    /// answered as committed, not run twice. A transaction DynamoDB cancelled for a reason that
    /// wrote nothing and may pass next time is sent again here, as a new one.
    async fn transact(
        &self,
        actions: Vec<TransactWriteItem>,
    ) -> Result<(), SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>> {
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await
                .map(|_| ());
            match result {
                Err(e) if attempt + 1 < CANCELLED_TRANSACTION_ATTEMPTS && cancelled_to_retry(&e) => {
                    backoff(attempt).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Run a transaction whose conditions guard against duplicates: any failed condition is a
    /// `Conflict`, anything else unavailability.
    async fn transact_or_conflict(&self, actions: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(e) if cancelled_conditions(&e).is_some_and(|c| c.iter().any(|&b| b)) => Err(StoreError::Conflict),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Every item of a partition whose sort key starts with `prefix` (consistent, all pages).
    async fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// The user item at an email key and its version, read consistently.
    async fn user_at(&self, email_key: &str) -> Result<Option<(UserRecord, i64)>, StoreError> {
        self.get(user_key(email_key))
            .await?
            .map(|i| self.read_user(&i))
            .transpose()
    }

    /// The user item and its version, read consistently through the id's pointer (two reads:
    /// the layout favours the lookup by email, which every login makes).
    async fn user_with_version(&self, user_id: &str) -> Result<Option<(UserRecord, i64)>, StoreError> {
        let Some(pointer) = self.get(user_pointer_key(user_id)).await? else {
            return Ok(None);
        };
        // Pointer and item are written and deleted together; an item at the address that is
        // someone else's would mean the pointer outlived its user.
        Ok(self
            .user_at(get_s(&pointer, EMAIL_KEY)?)
            .await?
            .filter(|(u, _)| u.user_id == user_id))
    }

    /// The put that replaces a user read at `version`, failing if anyone wrote it since.
    fn versioned_user_put(&self, user: &UserRecord, version: i64) -> Result<TransactWriteItem, StoreError> {
        let item = user_item(user, version + 1)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", n(version));
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_err)?)
            .build())
    }

    /// The update carrying a user's new credential epoch to its pointer, where redeeming a token
    /// checks it (`epoch_check`); always in the transaction that writes the user item.
    fn epoch_update(&self, user: &UserRecord) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(user_pointer_key(&user.user_id)))
            .update_expression("SET #ce = :e")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#ce", CREDENTIAL_EPOCH)
            .expression_attribute_values(":e", epoch(user.credential_epoch))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The check that `token`'s user still has the credential epoch the token was issued at
    /// (`records::token_survives`; a pointer written before the attribute existed counts as 0).
    fn epoch_check(&self, token: &TokenRecord) -> Result<TransactWriteItem, StoreError> {
        let condition = epoch_condition("attribute_exists(pk)", token.credential_epoch);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(user_pointer_key(&token.user_id)))
            .condition_expression(condition)
            .expression_attribute_names("#ce", CREDENTIAL_EPOCH)
            .expression_attribute_values(":e", epoch(token.credential_epoch))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The update marking a token used, conditioned on it being unused and stored with the
    /// credential epoch of the record the caller read (so the epoch `epoch_check` or the reset
    /// compares is the stored one; a token written before the attribute existed counts as 0).
    fn consume_update(&self, token: &TokenRecord) -> Result<Update, StoreError> {
        let condition = epoch_condition("attribute_exists(pk) AND #used = :no", token.credential_epoch);
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(&token.token_digest), "TOKEN")))
            .update_expression("SET #used = :yes")
            .condition_expression(condition)
            .expression_attribute_names("#used", USED)
            .expression_attribute_names("#ce", CREDENTIAL_EPOCH)
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":e", epoch(token.credential_epoch))
            .build()
            .map_err(build_err)
    }

    /// The user's sessions, as (session id, token digest) from their pointers, except `keep`.
    async fn session_pointers(&self, user_id: &str, keep: Option<&str>) -> Result<Vec<(String, String)>, StoreError> {
        let mut sessions = Vec::new();
        for pointer in self.query_prefix(&user_pk(user_id), SESSION_PREFIX).await? {
            let session_id = get_s(&pointer, SK)?.trim_start_matches(SESSION_PREFIX).to_string();
            if keep != Some(session_id.as_str()) {
                sessions.push((session_id, get_s(&pointer, "token_digest")?.to_string()));
            }
        }
        Ok(sessions)
    }

    /// Delete actions for the two lookups of a session (by token, and the user's pointer): once
    /// its session item is gone they lead nowhere, so they may follow it.
    fn session_lookup_deletes(
        &self,
        user_id: &str,
        session_id: &str,
        digest: &str,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        Ok([
            delete(&self.table, key(session_token_pk(digest), "STOKEN"), None)?,
            delete(
                &self.table,
                key(user_pk(user_id), format!("{SESSION_PREFIX}{session_id}")),
                None,
            )?,
        ])
    }

    /// Optimistic read-modify-write of one user: retried until no one else wrote in between.
    async fn modify_user<T>(&self, user_id: &str, f: impl Fn(&mut UserRecord) -> T) -> Result<Option<T>, StoreError> {
        for attempt in 0..OPTIMISTIC_ATTEMPTS {
            let Some((mut user, version)) = self.user_with_version(user_id).await? else {
                return Ok(None);
            };
            let before = user.clone();
            let out = f(&mut user);
            settle_credential_epoch(&before, &mut user, false);
            let mut actions = vec![self.versioned_user_put(&user, version)?];
            if user.credential_epoch != before.credential_epoch {
                actions.push(self.epoch_update(&user)?);
            }
            match self.transact(actions).await {
                Ok(()) => return Ok(Some(out)),
                Err(e) if cancelled_conditions(&e).is_some_and(|c| c.iter().any(|&b| b)) => backoff(attempt).await,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(StoreError::Unavailable(format!(
            "user {user_id} is being changed too often; retry"
        )))
    }

    /// The three puts that make a session: the session, its token lookup, the user's pointer.
    /// The token's address is remembered at once: should the write fail, it leads to no session.
    fn session_puts(&self, session: &SessionRecord) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.addresses.sessions.insert(
            session.token_digest.clone(),
            (session.session_id.clone(), session.user_id.clone()),
        );
        Ok(vec![
            put(&self.table, session_item(session)?, Some("attribute_not_exists(pk)"))?,
            put(
                &self.table,
                session_token_item(session),
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.table, session_pointer_item(session), None)?,
        ])
    }

    /// Rewrite an existing session and carry its expiry to both pointers (each conditioned on
    /// existing, so a revoked session is not resurrected).
    fn session_refresh(&self, session: &SessionRecord) -> Result<Vec<TransactWriteItem>, StoreError> {
        let expiry_update = |k: Item| -> Result<TransactWriteItem, StoreError> {
            let u = Update::builder()
                .table_name(&self.table)
                .set_key(Some(k))
                .update_expression("SET expires_at = :e")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":e", n(session.expires_at.timestamp()))
                .build()
                .map_err(build_err)?;
            Ok(TransactWriteItem::builder().update(u).build())
        };
        Ok(vec![
            put(&self.table, session_item(session)?, Some("attribute_exists(pk)"))?,
            expiry_update(key(session_token_pk(&session.token_digest), "STOKEN"))?,
            expiry_update(key(
                user_pk(&session.user_id),
                format!("{SESSION_PREFIX}{}", session.session_id),
            ))?,
        ])
    }

    /// Delete actions for the user's sessions (all three items each) except `keep`.
    async fn session_deletes(&self, user_id: &str, keep: Option<&str>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut actions = Vec::new();
        for (session_id, digest) in self.session_pointers(user_id, keep).await? {
            actions.push(delete(&self.table, session_key(&session_id), None)?);
            actions.extend(self.session_lookup_deletes(user_id, &session_id, &digest)?);
        }
        Ok(actions)
    }

    /// Run delete actions in transactions of at most 99 (whole sessions stay together).
    async fn run_deletes(&self, actions: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        for chunk in actions.chunks(99) {
            self.transact(chunk.to_vec()).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// Delete actions for every session (all three items) and emailed token (with its pointer)
    /// of the user.
    async fn user_dependents(&self, user_id: &str) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut actions = self.session_deletes(user_id, None).await?;
        for pointer in self.query_prefix(&user_pk(user_id), TOKEN_PREFIX).await? {
            let digest = get_s(&pointer, SK)?.trim_start_matches(TOKEN_PREFIX).to_string();
            actions.push(delete(&self.table, key(token_pk(&digest), "TOKEN"), None)?);
            actions.push(delete(
                &self.table,
                key(user_pk(user_id), format!("{TOKEN_PREFIX}{digest}")),
                None,
            )?);
        }
        Ok(actions)
    }

    /// The session and user ids a token digest names (its lookup item, remembered once read).
    async fn session_address(&self, digest: &str) -> Result<Option<(String, String)>, StoreError> {
        if let Some(ids) = self.addresses.sessions.get(digest) {
            return Ok(Some(ids));
        }
        let Some(lookup) = self.get(key(session_token_pk(digest), "STOKEN")).await? else {
            return Ok(None);
        };
        let ids = (
            get_s(&lookup, "session_id")?.to_string(),
            get_s(&lookup, "user_id")?.to_string(),
        );
        self.addresses.sessions.insert(digest.to_string(), ids.clone());
        Ok(Some(ids))
    }

    /// The organization item and the slug it holds, read consistently.
    async fn organization_with_slug(
        &self,
        organization_id: &str,
    ) -> Result<Option<(OrganizationRecord, String)>, StoreError> {
        match self.get(org_key(organization_id)).await? {
            Some(item) => Ok(Some((data(&item)?, get_s(&item, SLUG)?.to_string()))),
            None => Ok(None),
        }
    }

    /// Delete every member listed in the organization's partition, each by `delete_user` (which
    /// deletes its pointer last), a few at a time.
    async fn delete_members(&self, organization_id: &str) -> Result<(), StoreError> {
        let members: Vec<String> = self
            .query_prefix(&org_pk(organization_id), MEMBER_PREFIX)
            .await?
            .iter()
            .map(|p| get_s(p, SK).map(|sk| sk.trim_start_matches(MEMBER_PREFIX).to_string()))
            .collect::<Result<_, _>>()?;
        for chunk in members.chunks(MEMBER_DELETE_PARALLELISM) {
            let mut set = tokio::task::JoinSet::new();
            for member_id in chunk {
                let (store, org, member_id) = (self.clone(), organization_id.to_string(), member_id.clone());
                set.spawn(async move {
                    if !store.delete_user(&member_id).await? {
                        // The member is gone already (deleted meanwhile): only its pointer, if
                        // anything, is left.
                        let stray = delete(&store.table, key(org_pk(&org), member_sk(&member_id)), None)?;
                        store.transact(vec![stray]).await.map_err(unavailable)?;
                    }
                    Ok::<(), StoreError>(())
                });
            }
            let mut first_error = None;
            while let Some(joined) = set.join_next().await {
                let result = joined.unwrap_or_else(|e| Err(StoreError::Unavailable(e.to_string())));
                if let Err(e) = result {
                    first_error.get_or_insert(e);
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for DynamoStore {
    async fn create_user(&self, user: &UserRecord, session: Option<&SessionRecord>) -> Result<(), StoreError> {
        let mut actions = vec![
            // The user's item is keyed by its email, so its condition is the email's uniqueness.
            put(&self.table, user_item(user, 1)?, Some("attribute_not_exists(pk)"))?,
            put(&self.table, user_pointer_item(user), Some("attribute_not_exists(pk)"))?,
        ];
        // A member joins an organization that exists, checked in the same transaction: once
        // `delete_organization` has deleted the organization item, no member of it is created,
        // and every member created before has the pointer its member sweep finds.
        let org_check = match (
            user.organization_id(),
            member_pointer_item(user),
            member_email_item(user),
        ) {
            (Some(org), Some(pointer), Some(by_email)) => {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(org_key(org)))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err)?;
                let index = actions.len();
                actions.push(TransactWriteItem::builder().condition_check(check).build());
                actions.push(put(&self.table, pointer, None)?);
                actions.push(put(&self.table, by_email, None)?);
                Some(index)
            }
            _ => None,
        };
        if let Some(session) = session {
            actions.extend(self.session_puts(session)?);
        }
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(e) => match cancelled_conditions(&e) {
                // As in SQLite, a missing organization is reported before a taken email.
                Some(c) if org_check.is_some_and(|i| c.get(i) == Some(&true)) => Err(StoreError::Conflict),
                Some(c) if c.first() == Some(&true) => Err(StoreError::DuplicateEmail),
                Some(c) if c.iter().any(|&b| b) => Err(StoreError::Conflict),
                _ => Err(unavailable(e)),
            },
        }
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.user_with_version(user_id).await?.map(|(u, _)| u))
    }

    async fn user_by_email(
        &self,
        organization_id: Option<&str>,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.user_at(&email_key(organization_id, email)).await?.map(|(u, _)| u))
    }

    async fn members_with_email(&self, email: &str) -> Result<Vec<UserRecord>, StoreError> {
        let mut members = Vec::new();
        for entry in self.query_prefix(&members_by_email_pk(email), MEMBER_PREFIX).await? {
            let member_id = get_s(&entry, SK)?.trim_start_matches(MEMBER_PREFIX);
            let organization_id = get_s(&entry, ORGANIZATION_ID)?;
            // The entry and the member are written and deleted together; one deleted since the
            // query is simply not listed.
            if let Some((m, _)) = self.user_at(&email_key(Some(organization_id), email)).await? {
                if m.member.is_some() && m.user_id == member_id {
                    members.push(m);
                }
            }
        }
        // A member whose organization is gone is one a `delete_organization` cut short has not
        // reached yet (docs/dynamodb.md, "What is not one transaction"): not a member any more,
        // so its password is neither inherited nor propagated. One read for all organizations.
        let mut organizations: Vec<&str> = members.iter().filter_map(UserRecord::organization_id).collect();
        organizations.sort_unstable();
        organizations.dedup();
        let existing = self
            .batch_get(organizations.iter().map(|id| org_key(id)).collect())
            .await?;
        members.retain(|m| {
            m.organization_id()
                .is_some_and(|id| existing.iter().any(|item| same_key(item, &org_key(id))))
        });
        Ok(members)
    }

    async fn claim_login(
        &self,
        organization_id: Option<&str>,
        email: &str,
        now: DateTime<Utc>,
        settings: LockoutSettings,
    ) -> Result<Option<(UserRecord, Option<Ticket>)>, StoreError> {
        let at = user_key(&email_key(organization_id, email));
        // The common case in one request: not locked and not the last attempt, so the claim is
        // an increment, and the item comes back with it.
        let fast = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(at.clone()))
            .update_expression("SET #f = #f + :one, #v = #v + :one")
            .condition_expression("attribute_exists(pk) AND #f < :room AND attribute_not_exists(#le)")
            .expression_attribute_names("#f", FAILED_ATTEMPTS)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_names("#le", LOCK_EXPIRES_AT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":room", n(i64::from(settings.threshold) - 1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let mut current = match fast {
            Ok(out) => {
                let (user, _) = self.read_user(&out.attributes.unwrap_or_default())?;
                let ticket = lockout::Ticket {
                    at: now,
                    took_last: false,
                };
                return Ok(Some((user, Some(ticket))));
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item.clone(),
                _ => return Err(unavailable(e)),
            },
        };
        // No such user, a lock (current or expired), or the last attempt: decided on the item
        // (returned with the failure where the service does so), written if still unchanged.
        for attempt in 0..OPTIMISTIC_ATTEMPTS {
            let item = match current.take() {
                Some(item) => item,
                None => match self.get(at.clone()).await? {
                    Some(item) => item,
                    None => return Ok(None),
                },
            };
            let (mut user, version) = self.read_user(&item)?;
            let after = lockout::claim(&user.lock, now, settings);
            let ticket = lockout::ticket(&user.lock, &after, now);
            if after == user.lock {
                return Ok(Some((user, ticket)));
            }
            let (set, remove) = lock_attributes(&after);
            let mut expression = String::from("SET #v = :next");
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(at.clone()))
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", n(version))
                .expression_attribute_values(":next", n(version + 1));
            for (name, value) in set {
                expression.push_str(&format!(", {name} = :{name}"));
                update = update.expression_attribute_values(format!(":{name}"), value);
            }
            if !remove.is_empty() {
                expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
            }
            if conditional(update.update_expression(expression).send().await)? {
                user.lock = after;
                return Ok(Some((user, ticket)));
            }
            backoff(attempt).await
        }
        Err(StoreError::Unavailable(format!(
            "the login attempts on {email} race too often; retry"
        )))
    }

    async fn record_login(
        &self,
        user: &UserRecord,
        ticket: Ticket,
        now: DateTime<Utc>,
        session: Option<SessionWrite<'_>>,
    ) -> Result<LoginRecorded, StoreError> {
        // `lockout::on_success` as a condition: the count starts again unless a lock other than
        // the ticket's own (and not yet expired) is in place.
        let mut condition = String::from("attribute_exists(pk) AND (attribute_not_exists(#le) OR #le <= :now");
        let mut reset = Update::builder()
            .table_name(&self.table)
            .set_key(Some(user_key(&user.email_key())))
            .update_expression("SET #f = :zero, #v = #v + :one REMOVE #lc, #le")
            .expression_attribute_names("#f", FAILED_ATTEMPTS)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_names("#lc", LOCK_CREATED_AT)
            .expression_attribute_names("#le", LOCK_EXPIRES_AT)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.timestamp_micros()))
            .expression_attribute_values(":id", s(&user.user_id));
        if ticket.took_last {
            condition.push_str(" OR #lc = :mine");
            reset = reset.expression_attribute_values(":mine", n(ticket.at.timestamp_micros()));
        }
        condition.push_str(") AND user_id = :id");
        let reset = reset.condition_expression(condition).build().map_err(build_err)?;
        let mut actions = vec![TransactWriteItem::builder().update(reset).build()];
        match session {
            Some(SessionWrite::Insert(new)) => actions.extend(self.session_puts(new)?),
            Some(SessionWrite::Refresh(kept)) => actions.extend(self.session_refresh(kept)?),
            None => {}
        }
        match self.transact(actions).await {
            Ok(()) => Ok(LoginRecorded::Recorded),
            Err(e) => match cancelled_conditions(&e) {
                Some(c) if c.first() == Some(&true) => {
                    // Locked by another attempt meanwhile, or gone: read to tell which.
                    match self.user_at(&user.email_key()).await? {
                        Some((found, _)) if found.user_id == user.user_id => Ok(LoginRecorded::Locked(found.lock)),
                        _ => Ok(LoginRecorded::UserGone),
                    }
                }
                Some(c) if c.iter().any(|&b| b) => Ok(LoginRecorded::SessionGone),
                _ => Err(unavailable(e)),
            },
        }
    }

    async fn require_password_reset(&self, user_id: &str, hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .modify_user(user_id, |u| flag_reset(u, hash))
            .await?
            .unwrap_or(false))
    }

    async fn verify_email(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .modify_user(user_id, |u| {
                prove_email(u);
            })
            .await?
            .is_some())
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let Some(user) = self.user_by_id(user_id).await? else {
            return Ok(false);
        };
        // Sessions and tokens first; the user, its guard and (for a member) its pointer and its
        // entry by email last, so a failure part-way leaves a user that still exists, with fewer
        // sessions, and that its organization's member sweep still finds.
        self.run_deletes(self.user_dependents(user_id).await?).await?;
        let mut last = vec![
            delete(&self.table, user_key(&user.email_key()), Some("attribute_exists(pk)"))?,
            delete(&self.table, user_pointer_key(user_id), None)?,
        ];
        if let Some(org) = user.organization_id() {
            last.push(delete(&self.table, key(org_pk(org), member_sk(user_id)), None)?);
            last.push(delete(
                &self.table,
                key(members_by_email_pk(&user.email), member_sk(user_id)),
                None,
            )?);
        }
        match self.transact(last).await {
            Ok(()) => {}
            Err(e) if cancelled_conditions(&e).is_some_and(|c| c.first() == Some(&true)) => return Ok(false),
            Err(e) => return Err(unavailable(e)),
        }
        // A session started between the sweep above and the user's deletion (its transaction
        // checked that the user existed) would otherwise outlive it; no session can start now.
        self.run_deletes(self.user_dependents(user_id).await?).await?;
        Ok(true)
    }

    async fn update_lock(
        &self,
        user_id: &str,
        change: LockChange,
    ) -> Result<Option<(LockState, LockState)>, StoreError> {
        self.modify_user(user_id, |user| {
            let before = user.lock.clone();
            user.lock = change(&before);
            (before, user.lock.clone())
        })
        .await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&session.user_id), PROFILE)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        let mut actions = vec![TransactWriteItem::builder().condition_check(check).build()];
        actions.extend(self.session_puts(session)?);
        self.transact_or_conflict(actions).await
    }

    async fn session_by_id(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.get(session_key(session_id)).await?.map(|i| data(&i)).transpose()
    }

    async fn session_by_token_digest(&self, digest: &str) -> Result<Option<SessionRecord>, StoreError> {
        match self.session_address(digest).await? {
            Some((session_id, _)) => self.session_by_id(&session_id).await,
            None => Ok(None),
        }
    }

    async fn session_context(&self, key: SessionKey<'_>) -> Result<Option<SessionContext>, StoreError> {
        let (session_id, user_id) = match key {
            SessionKey::TokenDigest(digest) => match self.session_address(digest).await? {
                Some(ids) => ids,
                None => return Ok(None),
            },
            SessionKey::Id { session_id, user_id } => (session_id.to_string(), user_id.to_string()),
        };
        let wanted_session = session_key(&session_id);
        let address = self.addresses.users.get(&user_id);
        let mut keys = vec![wanted_session.clone()];
        if let Some(a) = &address {
            keys.push(user_key(&a.email_key));
            keys.extend(a.organization_id.as_deref().map(org_key));
        }
        let mut found = self.batch_get(keys).await?;
        let Some(at) = found.iter().position(|i| same_key(i, &wanted_session)) else {
            return Ok(None);
        };
        let session: SessionRecord = data(&found.swap_remove(at))?;
        let mut user = None;
        let mut organization = None;
        for item in &found {
            if get_s(item, SK)? == USER_SK {
                user = Some(self.read_user(item)?.0).filter(|u| u.user_id == session.user_id);
            } else {
                organization = Some(data::<OrganizationRecord>(item)?);
            }
        }
        // The address was stale, unknown, or the session is someone else's than the token's
        // address said (it cannot be; then nothing batched is used): the pointers, as
        // `user_by_id` and `organization_by_id` follow them.
        if user.is_none() {
            user = self.user_by_id(&session.user_id).await?;
        }
        let wanted = session.organization.as_ref().map(|o| o.organization_id.as_str());
        if organization.as_ref().map(|o| o.organization_id.as_str()) != wanted {
            organization = match wanted {
                Some(id) => self.organization_by_id(id).await?,
                None => None,
            };
        }
        Ok(Some(SessionContext {
            session,
            user,
            organization,
        }))
    }

    async fn update_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        match self.transact(self.session_refresh(session)?).await {
            Ok(()) => Ok(true),
            Err(e) if cancelled_conditions(&e).is_some_and(|c| c.iter().any(|&b| b)) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        let Some(session) = self.session_by_id(session_id).await? else {
            return Ok(false);
        };
        let actions = vec![
            delete(&self.table, session_key(session_id), Some("attribute_exists(pk)"))?,
            delete(
                &self.table,
                key(session_token_pk(&session.token_digest), "STOKEN"),
                None,
            )?,
            delete(
                &self.table,
                key(user_pk(&session.user_id), format!("{SESSION_PREFIX}{session_id}")),
                None,
            )?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(e) if cancelled_conditions(&e).is_some_and(|c| c.first() == Some(&true)) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn sessions_for_user(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>, StoreError> {
        let keys: Vec<Item> = self
            .query_prefix(&user_pk(user_id), SESSION_PREFIX)
            .await?
            .iter()
            .map(|p| get_s(p, SK).map(|sk| session_key(sk.trim_start_matches(SESSION_PREFIX))))
            .collect::<Result<_, _>>()?;
        let mut sessions = self
            .batch_get(keys)
            .await?
            .iter()
            .map(data::<SessionRecord>)
            .collect::<Result<Vec<_>, _>>()?;
        sessions.retain(|s| s.is_active(now));
        sessions.sort_by_key(|s| s.expires_at);
        Ok(sessions)
    }

    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        let mut actions = Vec::new();
        for token in tokens {
            actions.push(put(&self.table, token_item(token)?, Some("attribute_not_exists(pk)"))?);
            actions.push(put(&self.table, token_pointer_item(token), None)?);
        }
        self.transact_or_conflict(actions).await
    }

    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.get(key(token_pk(digest), "TOKEN"))
            .await?
            .map(|i| token_from_item(&i))
            .transpose()
    }

    async fn update_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        // Only the record changes: `used` stays the authority (and unset), the expiry attributes
        // of the token and its pointer stay as written.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(&token.token_digest), "TOKEN")))
            .update_expression("SET #data = :data")
            .condition_expression("attribute_exists(pk) AND #used = :no")
            .expression_attribute_names("#data", DATA)
            .expression_attribute_names("#used", USED)
            .expression_attribute_values(":data", token_data(token)?)
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await;
        conditional(result)
    }

    async fn consume_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        if !token.kind.dies_with_password() {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(token_pk(&token.token_digest), "TOKEN")))
                .update_expression("SET #used = :yes")
                .condition_expression("attribute_exists(pk) AND #used = :no")
                .expression_attribute_names("#used", USED)
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .send()
                .await;
            return conditional(result);
        }
        // The single use and the password-change check in one transaction (docs/security.md R7): a
        // reset committed before it leaves the pointer's epoch moved on, and the two cannot
        // interleave.
        let actions = vec![
            TransactWriteItem::builder().update(self.consume_update(token)?).build(),
            self.epoch_check(token)?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(e) if cancelled_conditions(&e).is_some_and(|c| c.iter().any(|&b| b)) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn complete_reset(&self, reset: &PasswordReset) -> Result<Option<UserRecord>, StoreError> {
        for attempt in 0..OPTIMISTIC_ATTEMPTS {
            let Some((mut user, version)) = self.user_with_version(&reset.user_id).await? else {
                return Ok(None);
            };
            let mut actions = Vec::new();
            if let Some(token) = &reset.token {
                // Checked on the user as read; the versioned put below fails if the epoch
                // (or anything else) moved since (docs/security.md R7).
                if !token_survives(token, &user) {
                    return Ok(None);
                }
                actions.push(TransactWriteItem::builder().update(self.consume_update(token)?).build());
            }
            reset.apply_to(&mut user);
            // The versioned puts: a failed one only means that user moved since it was read.
            let mut versioned = vec![actions.len()];
            actions.push(self.versioned_user_put(&user, version)?);
            actions.push(self.epoch_update(&user)?);
            for shared in &reset.same_password_for {
                let Some((mut other, other_version)) = self.user_with_version(&shared.user_id).await? else {
                    continue;
                };
                shared.apply_to(&mut other, &reset.password.hash);
                versioned.push(actions.len());
                actions.push(self.versioned_user_put(&other, other_version)?);
                actions.push(self.epoch_update(&other)?);
            }
            let keep_id = reset.keep_session.as_ref().map(|s| s.session_id.as_str());
            if let Some(keep) = &reset.keep_session {
                actions.extend(self.session_refresh(keep)?);
            }
            if let Some(new) = &reset.new_session {
                actions.extend(self.session_puts(new)?);
            }
            // A session is dead once its session item is gone (both lookups lead to it). The
            // commit deletes every revoked session's three items when they fit (the common case:
            // one transaction), else only the session items, one action each (~90 fit beside
            // the rest), and the lookups right after. A user with more still has the excess
            // revoked whole before the commit. Either way nothing left for after the commit is
            // needed to refuse a session (docs/security.md R4).
            let mut revoked = self.session_pointers(&reset.user_id, keep_id).await?;
            // Two actions per membership: an email in more than ~45 organizations under shared
            // passwords cannot be reset in one transaction, and none of it is written.
            let Some(room) = MAX_TRANSACTION_ITEMS.checked_sub(actions.len()) else {
                return Err(StoreError::Unavailable(format!(
                    "a reset of {} memberships at once does not fit one transaction",
                    reset.same_password_for.len() + 1
                )));
            };
            if revoked.len() > room {
                let mut early = Vec::new();
                for (session_id, digest) in revoked.split_off(room) {
                    early.push(delete(&self.table, session_key(&session_id), None)?);
                    early.extend(self.session_lookup_deletes(&reset.user_id, &session_id, &digest)?);
                }
                self.run_deletes(early).await?;
            }
            let whole = revoked.len() * 3 <= room;
            let mut lookups = Vec::new();
            for (session_id, digest) in &revoked {
                actions.push(delete(&self.table, session_key(session_id), None)?);
                let pair = self.session_lookup_deletes(&reset.user_id, session_id, digest)?;
                if whole {
                    actions.extend(pair);
                } else {
                    lookups.extend(pair);
                }
            }
            match self.transact(actions).await {
                Ok(()) => {
                    // Only dead lookups are left to delete: a failure here leaves pointers to
                    // nothing (expired by TTL, swept by delete_user), so the reset stands.
                    if let Err(e) = self.run_deletes(lookups).await {
                        tracing::warn!(error = %e, "the revoked sessions' lookups were not all deleted");
                    }
                    return Ok(Some(user));
                }
                Err(e) => match cancelled_conditions(&e) {
                    // Only versions moved (a lock update meanwhile): read again, retry.
                    Some(c)
                        if c.iter()
                            .enumerate()
                            .all(|(i, &failed)| !failed || versioned.contains(&i))
                            && c.iter().any(|&failed| failed) =>
                    {
                        backoff(attempt).await
                    }
                    // The token was used, or the kept session revoked, meanwhile.
                    Some(c) if c.iter().any(|&b| b) => return Ok(None),
                    _ => return Err(unavailable(e)),
                },
            }
        }
        Err(StoreError::Unavailable(
            "the reset raced with other changes too often; retry".into(),
        ))
    }

    async fn hit_rate_limit(&self, key_name: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(rate_pk(key_name), window_sk(window_start))))
            .update_expression("ADD #count :one SET expires_at = :e")
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_values(":one", n(1))
            // Kept a day past its window, for inspection; TTL removes it after.
            .expression_attribute_values(":e", n(window_start.timestamp() + 86_400))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        let attrs: HashMap<String, AttributeValue> = out.attributes.unwrap_or_default();
        Ok(get_n(&attrs, COUNT)?.clamp(0, i64::from(u32::MAX)) as u32)
    }

    async fn update_user(&self, user_id: &str, change: UserChange) -> Result<Option<UserRecord>, StoreError> {
        self.modify_user(user_id, |u| {
            // modify_user settles the epoch after this too (the same result): here so that the
            // record returned is the one written.
            let before = u.clone();
            change(u);
            settle_credential_epoch(&before, u, false);
            u.clone()
        })
        .await
    }

    async fn create_organization(&self, org: &OrganizationRecord) -> Result<(), StoreError> {
        let actions = vec![
            put(&self.table, organization_item(org)?, Some("attribute_not_exists(pk)"))?,
            put(&self.table, slug_guard_item(org), Some("attribute_not_exists(pk)"))?,
        ];
        self.transact_or_conflict(actions).await
    }

    async fn organization_by_id(&self, organization_id: &str) -> Result<Option<OrganizationRecord>, StoreError> {
        Ok(self.organization_with_slug(organization_id).await?.map(|(o, _)| o))
    }

    async fn organization_by_slug(&self, slug: &str) -> Result<Option<OrganizationRecord>, StoreError> {
        // Two reads: a rename between them shows as an organization with another slug; read
        // again then (the guard has moved or gone with the rename).
        for _ in 0..3 {
            let Some(guard) = self.get(key(slug_pk(slug), SLUG_SK)).await? else {
                return Ok(None);
            };
            match self.organization_by_id(get_s(&guard, ORGANIZATION_ID)?).await? {
                Some(org) if org.organization_slug == slug => return Ok(Some(org)),
                _ => continue,
            }
        }
        Ok(None)
    }

    async fn update_organization(&self, org: &OrganizationRecord, previous_slug: &str) -> Result<bool, StoreError> {
        let id = &org.organization_id;
        let mut previous = previous_slug.to_string();
        for attempt in 0..OPTIMISTIC_ATTEMPTS {
            // The organization is replaced only while it still holds `previous`: its guard is
            // then the one to move.
            let replace = Put::builder()
                .table_name(&self.table)
                .set_item(Some(organization_item(org)?))
                .condition_expression("attribute_exists(pk) AND #slug = :previous")
                .expression_attribute_names("#slug", SLUG)
                .expression_attribute_values(":previous", s(&previous))
                .build()
                .map_err(build_err)?;
            let mut actions = vec![TransactWriteItem::builder().put(replace).build()];
            if org.organization_slug != previous {
                actions.push(put(
                    &self.table,
                    slug_guard_item(org),
                    Some("attribute_not_exists(pk)"),
                )?);
                let release = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(slug_pk(&previous), SLUG_SK)))
                    .condition_expression("#org = :id")
                    .expression_attribute_names("#org", ORGANIZATION_ID)
                    .expression_attribute_values(":id", s(id))
                    .build()
                    .map_err(build_err)?;
                actions.push(TransactWriteItem::builder().delete(release).build());
            }
            match self.transact(actions).await {
                Ok(()) => return Ok(true),
                Err(e) => match cancelled_conditions(&e) {
                    // Gone, or renamed meanwhile: read its slug now and replace it from there
                    // (the last writer wins, as in SQLite).
                    Some(c) if c.first() == Some(&true) => match self.organization_with_slug(id).await? {
                        None => return Ok(false),
                        Some((_, current)) => {
                            if current == previous {
                                backoff(attempt).await;
                            }
                            previous = current;
                        }
                    },
                    Some(c) if c.get(1) == Some(&true) => return Err(StoreError::Conflict),
                    Some(c) if c.iter().any(|&b| b) => {
                        return Err(StoreError::Corrupt(format!(
                            "organization {id} holds slug {previous} but its guard is not its own"
                        )))
                    }
                    _ => return Err(unavailable(e)),
                },
            }
        }
        Err(StoreError::Unavailable(format!(
            "organization {id} is being changed too often; retry"
        )))
    }

    async fn delete_organization(&self, organization_id: &str) -> Result<bool, StoreError> {
        // First the organization and its slug guard, together: from then on no member can join
        // it (create_user checks the organization item) and it cannot be found by id or slug.
        let mut deleted = None;
        for attempt in 0..OPTIMISTIC_ATTEMPTS {
            let Some((_, slug)) = self.organization_with_slug(organization_id).await? else {
                deleted = Some(false);
                break;
            };
            let remove = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(org_key(organization_id)))
                .condition_expression("attribute_exists(pk) AND #slug = :slug")
                .expression_attribute_names("#slug", SLUG)
                .expression_attribute_values(":slug", s(&slug))
                .build()
                .map_err(build_err)?;
            let release = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(slug_pk(&slug), SLUG_SK)))
                .condition_expression("#org = :id")
                .expression_attribute_names("#org", ORGANIZATION_ID)
                .expression_attribute_values(":id", s(organization_id))
                .build()
                .map_err(build_err)?;
            let actions = vec![
                TransactWriteItem::builder().delete(remove).build(),
                TransactWriteItem::builder().delete(release).build(),
            ];
            match self.transact(actions).await {
                Ok(()) => {
                    deleted = Some(true);
                    break;
                }
                Err(e) => match cancelled_conditions(&e) {
                    // Renamed or deleted meanwhile: read it again.
                    Some(c) if c.first() == Some(&true) => backoff(attempt).await,
                    Some(c) if c.iter().any(|&b| b) => {
                        return Err(StoreError::Corrupt(format!(
                            "organization {organization_id} holds slug {slug} but its guard is not its own"
                        )))
                    }
                    _ => return Err(unavailable(e)),
                },
            }
        }
        let Some(deleted) = deleted else {
            return Err(StoreError::Unavailable(format!(
                "organization {organization_id} is being changed too often; retry"
            )));
        };
        // Then its members, found by their pointers. Also when the organization was already
        // gone: a call that failed part-way is finished by the next one.
        self.delete_members(organization_id).await?;
        Ok(deleted)
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.query_prefix(KEYS_PK, KEY_PREFIX).await?.iter().map(data).collect()
    }

    async fn insert_signing_key(&self, key_record: &SigningKeyRecord) -> Result<(), StoreError> {
        let guard = HashMap::from([
            (PK.to_string(), s(KEYS_PK)),
            (SK.to_string(), s(FIRST_KEY_SK)),
            ("kid".to_string(), s(&key_record.kid)),
        ]);
        let actions = vec![
            put(&self.table, guard, Some("attribute_not_exists(pk)"))?,
            put(&self.table, signing_key_item(key_record)?, None)?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(e) if cancelled_conditions(&e).is_some_and(|c| c.first() == Some(&true)) => Err(StoreError::Conflict),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn replace_signing_key(&self, current: &SigningKeyRecord, new: &SigningKeyRecord) -> Result<(), StoreError> {
        if current.kid != new.kid {
            return Err(StoreError::Corrupt(
                "a signing key is replaced by one with its own kid".into(),
            ));
        }
        let item = signing_key_item(new)?;
        let stored = self.get(key(KEYS_PK, format!("{KEY_PREFIX}{}", current.kid))).await?;
        // Compared as records (an older version's JSON may be laid out otherwise), then the
        // write is conditional on the very text read: a concurrent replacement wins or loses whole.
        let raw = match &stored {
            Some(i) if data::<SigningKeyRecord>(i)? == *current => get_s(i, DATA)?.to_string(),
            _ => return Err(StoreError::Conflict),
        };
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#d = :current")
            .expression_attribute_names("#d", DATA)
            .expression_attribute_values(":current", s(&raw))
            .send()
            .await;
        if conditional(out)? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }
}
