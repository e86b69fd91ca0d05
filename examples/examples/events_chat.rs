//! AppSync Events: a tiny chat. One client subscribes to every room of the `default` namespace
//! (`/default/*`); another posts to two rooms, over HTTP and over its socket; the first prints
//! what arrives, typed.
//!
//! `cargo run -p appsync-examples --example events_chat` runs it against appsync-local, started
//! in this process with an Event API. With a path,
//! `cargo run -p appsync-examples --example events_chat -- amplify_outputs.json`, it uses the
//! Event API of your Gen2 config (`custom.events`, in its default auth mode: an API key from
//! the file, or AWS credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN`).

use std::time::Duration;

use appsync_client::{ChannelEvent, Client, Config};
use appsync_examples::{events_server, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// A chat message, as published and as received.
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    from: String,
    text: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _local = None;
    let config = match std::env::args_os().nth(1) {
        Some(path) => Config::from_path(path)?,
        None => {
            let local = events_server().start().await?;
            println!(
                "appsync-local serves an Event API at {}",
                local.events_url()
            );
            let config = Config::from_json(&local.amplify_outputs())?;
            _local = Some(local);
            config
        }
    };
    let credentials = match (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Ok(id), Ok(secret)) => Credentials::new(
            id,
            secret,
            std::env::var("AWS_SESSION_TOKEN").ok(),
            None,
            "env",
        ),
        _ => Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "example"),
    };
    let ann = Client::builder()
        .config(config.clone())
        .credentials_provider(credentials.clone())
        .build()?;
    let bob = Client::builder()
        .config(config)
        .credentials_provider(credentials)
        .build()?;

    // Ann follows every room.
    let mut rooms = ann
        .events_default()
        .subscribe::<Message>("/default/*")
        .start()
        .await?;
    println!("ann subscribed to {}", rooms.channel());

    // Bob posts: two messages in one publish over HTTP, then one over his socket.
    let chat = bob.events_default();
    let said = |text: &str| Message {
        from: "bob".into(),
        text: text.into(),
    };
    let result = chat
        .publish("/default/lobby", [said("hello"), said("anyone here?")])
        .send()
        .await?;
    println!(
        "bob published over HTTP: {} accepted, {} refused",
        result.successful.len(),
        result.failed.len()
    );
    chat.publish("/default/kitchen", [said("coffee's ready")])
        .over_socket()
        .send()
        .await?;
    println!("bob published over his socket");

    let mut received = 0;
    while received < 3 {
        let item = tokio::time::timeout(Duration::from_secs(10), rooms.next())
            .await
            .map_err(|_| "no message within 10 s")?
            .ok_or("the subscription ended")?;
        match item? {
            ChannelEvent::Event(m) => {
                received += 1;
                println!("ann got: {}: {}", m.from, m.text);
            }
            ChannelEvent::BroadcastError { errors } => println!("not delivered: {errors:?}"),
            other => println!("ann's subscription: {other:?}"),
        }
    }
    println!("done: ann received all {received} messages");
    Ok(())
}
