//! The table's definition, in one place: used by `latch create-table`, by the tests' setup, and
//! checked against the SAM template.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::items::{EXPIRES_AT, PK, SK};
use crate::store::StoreError;

/// A DynamoDB client for this configuration.
pub fn client(config: &aws_config::SdkConfig) -> Client {
    Client::new(config)
}

/// `LATCH_TABLE` when unset.
pub const DEFAULT_TABLE: &str = "latch";

pub fn key_schema() -> Vec<(&'static str, KeyType)> {
    vec![(PK, KeyType::Hash), (SK, KeyType::Range)]
}

/// Create the table (on demand, string `pk`/`sk`) and turn on TTL for `expires_at`. Succeeds if
/// the table already exists.
pub async fn create(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for (name, kind) in key_schema() {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| StoreError::Unavailable(format!("table {table}: {e}")))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .map_err(|e| StoreError::Unavailable(format!("table {table}: {e}")))?,
            );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) => {
            let service = e.into_service_error();
            if !service.is_resource_in_use_exception() {
                return Err(StoreError::Unavailable(format!("creating table {table}: {service}")));
            }
        }
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .map_err(|e| StoreError::Unavailable(format!("table {table}: {e}")))?,
        )
        .send()
        .await
        .map(|_| ())
        .or_else(|e| {
            let service = e.into_service_error();
            // Turning TTL on twice is refused with "TimeToLive is already enabled".
            if service.to_string().contains("already enabled") {
                Ok(())
            } else {
                Err(StoreError::Unavailable(format!("enabling TTL on {table}: {service}")))
            }
        })
}
