//! Real JSON through generated code, both ways: responses with fragments, aliases,
//! `__typename`, interfaces, unions, lists, AWSJSON strings and `@include`; variables with
//! absent, null and present values; the operation metadata.

use appsync_client::graphql_client::GraphQLQuery;
use appsync_client::types::Nullable;
use appsync_client::{AuthMode, Operation, OperationKind};
use appsync_codegen_roundtrip::{full, full_one_way, full_typed, notes_statements, Meta, Url};
use serde_json::{json, Value};

fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(wire: Value) -> T {
    let parsed: T = serde_json::from_value(wire.clone()).unwrap_or_else(|e| panic!("{e}"));
    let back = serde_json::to_value(&parsed).unwrap();
    assert_eq!(back, wire, "serializing again gives the same JSON");
    parsed
}

fn note_json() -> Value {
    json!({
        "id": "n1",
        "title": "Hello",
        "status": "PUBLISHED",
        "tags": ["a", "b"],
        "__typename": "Note",
        "body": null,
        "scores": [1.5, null],
        "matrix": [[1, 2], null],
        "meta": "{\"a\":1,\"nested\":{\"b\":[true,null]}}",
        "history": ["1", "\"x\"", "[]"],
        "createdAt": "2024-02-29T13:05:09.120Z",
        "day": "2024-02-29",
        "time": "13:05:09",
        "version": 1709211909,
        "heading": "Old",
        "type": "type",
        "firstTags": ["a", "b"],
        "author": {"id": "u1", "name": "Alice", "email": "alice@example.com"}
    })
}

#[test]
#[allow(deprecated)]
fn a_query_response_with_fragments_aliases_and_awsjson() {
    let data: full::get_note::ResponseData = roundtrip(json!({ "note": note_json() }));
    let note = data.note.expect("a note");
    assert_eq!(note.id, "n1");
    assert_eq!(note.typename, "Note");
    assert_eq!(
        note.note_fields.id, "n1",
        "a fragment sees the keys the struct also reads"
    );
    assert_eq!(note.note_fields.status, full::NoteStatus::Published);
    assert_eq!(note.first_tags, vec!["a", "b"]);
    assert_eq!(note.scores, Some(vec![Some(1.5), None]));
    assert_eq!(note.matrix, Some(vec![Some(vec![1, 2]), None]));
    assert_eq!(
        note.meta,
        Some(json!({"a": 1, "nested": {"b": [true, null]}}))
    );
    assert_eq!(note.history, Some(vec![json!(1), json!("x"), json!([])]));
    assert_eq!(note.version, 1_709_211_909);
    assert_eq!(note.heading.as_deref(), Some("Old"));
    assert_eq!(note.r#type, Some(full::Clash::Type));
    let author = note.author.expect("included");
    assert_eq!(author.user_bits.name, "Alice");

    // `@include(if: false)`: the key is missing, the field is None.
    let mut n = note_json();
    n.as_object_mut().unwrap().remove("author");
    let data: full::get_note::ResponseData = serde_json::from_value(json!({ "note": n })).unwrap();
    assert!(data.note.unwrap().author.is_none());

    // A null root field.
    let data: full::get_note::ResponseData = roundtrip(json!({ "note": null }));
    assert!(data.note.is_none());

    // An AWSJSON string that is not JSON is an error.
    let mut n = note_json();
    n["meta"] = json!("{a: 1}");
    let e =
        serde_json::from_value::<full::get_note::ResponseData>(json!({ "note": n })).unwrap_err();
    assert!(e.to_string().contains("AWSJSON"), "{e}");
}

#[test]
fn enums_keep_unknown_values() {
    let s: full::NoteStatus = serde_json::from_value(json!("PINNED")).unwrap();
    assert_eq!(s, full::NoteStatus::Other("PINNED".into()));
    assert_eq!(serde_json::to_value(&s).unwrap(), json!("PINNED"));
    assert_eq!(full::NoteStatus::Draft.as_str(), "DRAFT");
    // The enum value OTHER does not clash with the fallback variant.
    let c: full::Clash = serde_json::from_value(json!("OTHER")).unwrap();
    assert_eq!(c, full::Clash::Other);
    assert_eq!(
        serde_json::from_value::<full::Clash>(json!("NEW")).unwrap(),
        full::Clash::Other2("NEW".into())
    );
}

#[test]
fn a_union_with_inline_fragments_and_a_spread() {
    let wire = json!({ "search": [
        {"__typename": "Note", "id": "n1", "title": "T", "author": {"name": "Alice"}},
        {"__typename": "User", "id": "u1", "name": "Bob", "email": null},
        {"__typename": "Comment", "id": "c1", "text": "Nice", "note": {"id": "n1", "title": "T", "status": "DRAFT", "tags": []}},
        {"__typename": "Photo", "id": "p1"}
    ]});
    let data: full::search::ResponseData = serde_json::from_value(wire.clone()).unwrap();
    use full::search::SearchOn;
    let [note, user, comment, photo] = &data.search[..] else {
        panic!("4 results: {data:?}")
    };
    assert_eq!(note.typename, "Note");
    match &note.on {
        SearchOn::Note(n) => {
            assert_eq!(n.title, "T");
            assert_eq!(n.author.as_ref().unwrap().name, "Alice");
        }
        other => panic!("{other:?}"),
    }
    match &user.on {
        SearchOn::User(u) => assert_eq!(u.user_bits.name, "Bob"),
        other => panic!("{other:?}"),
    }
    match &comment.on {
        SearchOn::Comment(c) => {
            assert_eq!(c.text, "Nice");
            assert_eq!(
                c.note.as_ref().unwrap().note_fields.status,
                full::NoteStatus::Draft
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(photo.id, "p1");
    assert_eq!(photo.on, SearchOn::Other);
    // Known types serialize back to the same JSON.
    let back = serde_json::to_value(&data.search[..3]).unwrap();
    assert_eq!(back, json!(wire["search"].as_array().unwrap()[..3]));
}

#[test]
fn an_interface_with_a_fragment_and_a_type_condition() {
    let data: full::get_node::ResponseData = roundtrip(json!({
        "node": {"__typename": "User", "id": "u1", "name": "Ann"}
    }));
    let node = data.node.unwrap();
    assert_eq!(node.node_id.id, "u1");
    assert_eq!(
        node.on,
        full::get_node::NodeOn::User(full::get_node::NodeOnUser { name: "Ann".into() })
    );
    let data: full::get_node::ResponseData =
        roundtrip(json!({"node": {"__typename": "Note", "id": "n1"}}));
    assert_eq!(data.node.unwrap().on, full::get_node::NodeOn::Note);
    // `__typename` was added to the document for the variants.
    assert!(full::get_node::QUERY.contains("node(id: $id) { __typename"));
}

#[test]
fn variables_tell_absent_from_null() {
    let vars = full::create_note::Variables {
        input: full::CreateNoteInput {
            title: "T".into(),
            body: Nullable::Null,
            status: Nullable::Absent,
            tags: Nullable::Value(vec!["x".into()]),
            meta: Nullable::Value(json!({"k": [1, 2]})),
            created_at: "2024-01-01T00:00:00Z".into(),
            day: Nullable::Absent,
            time: Nullable::Absent,
            version: Nullable::Value(5),
        },
    };
    let body = serde_json::to_value(full::CreateNote::build_query(vars.clone())).unwrap();
    assert_eq!(
        body,
        json!({
            "query": full::create_note::QUERY,
            "operationName": "CreateNote",
            "variables": {"input": {
                "title": "T",
                "body": null,
                "tags": ["x"],
                "meta": "{\"k\":[1,2]}",
                "createdAt": "2024-01-01T00:00:00Z",
                "version": 5
            }}
        })
    );
    // And back.
    let again: full::create_note::Variables =
        serde_json::from_value(body["variables"].clone()).unwrap();
    assert_eq!(again, vars);

    // Subscription filters: a null argument is sent, an absent one is not.
    let v = full::on_update_note::Variables {
        id: Nullable::Null,
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&v).unwrap(), json!({"id": null}));
    let v = full::on_update_note::Variables {
        status: Nullable::Value(full::NoteStatus::Published),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({"status": "PUBLISHED"})
    );

    // A recursive input type (boxed) with defaults.
    let filter = full::NoteFilter {
        not: Nullable::Value(Box::new(full::NoteFilter {
            status: Nullable::Value(full::NoteStatus::Deleted),
            ..Default::default()
        })),
        and: Nullable::Value(vec![None, Some(full::NoteFilter::default())]),
        ..Default::default()
    };
    let v = full::list_notes::Variables {
        filter: Nullable::Value(filter),
        limit: Nullable::Absent,
    };
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({"filter": {"not": {"status": "DELETED"}, "and": [null, {}]}})
    );
}

#[test]
fn operations_carry_their_kind_and_auth_modes() {
    assert_eq!(full::GetNote::KIND, OperationKind::Query);
    assert_eq!(full::CreateNote::KIND, OperationKind::Mutation);
    assert_eq!(full::OnUpdateNote::KIND, OperationKind::Subscription);
    // Query ∩ Note (API key, IAM, user pools) ∩ User (API key, user pools).
    assert_eq!(
        full::GetNote::ALLOWED_AUTH_MODES,
        &[AuthMode::ApiKey, AuthMode::UserPools]
    );
    assert_eq!(full::Search::ALLOWED_AUTH_MODES, &[AuthMode::ApiKey]);
    assert_eq!(full::UpdateNote::ALLOWED_AUTH_MODES, &[AuthMode::Iam]);
    // A field restricted to groups: user pools stays allowed, the groups are listed.
    assert_eq!(full::Secret::ALLOWED_AUTH_MODES, &[AuthMode::UserPools]);
    assert_eq!(
        full::secret::USER_POOL_GROUPS,
        &[&["admins", "editors"][..]]
    );
    assert_eq!(full::get_note::OPERATION_NAME, "GetNote");
    let body = full::ListNotes::build_query(Default::default());
    assert_eq!(body.operation_name, "ListNotes");
    assert!(body.query.starts_with("query ListNotes("));
}

#[test]
fn time_types_and_user_scalars() {
    use appsync_client::types::time;
    let wire = json!({"note": {
        "id": "n1", "title": "T", "status": "DRAFT", "tags": [], "__typename": "Note",
        "body": "b", "scores": null, "matrix": null,
        "meta": "{\"a\":7,\"labels\":[\"x\"]}",
        "history": ["{\"a\":1,\"labels\":[]}"],
        "createdAt": "2024-02-29T13:05:09.12+05:30",
        "day": "2024-02-29", "time": "13:05:09.5", "version": 0,
        "heading": null, "type": null, "firstTags": [],
        "author": {"id": "u1", "name": "A", "email": null}
    }});
    let data: full_typed::get_note::ResponseData = roundtrip(wire);
    let note = data.note.unwrap();
    assert_eq!(
        note.meta,
        Some(Meta {
            a: 7,
            labels: vec!["x".into()]
        })
    );
    assert_eq!(note.history.as_ref().unwrap()[0].a, 1);
    let at = note.created_at;
    assert_eq!(at.offset(), time::UtcOffset::from_hms(5, 30, 0).unwrap());
    assert_eq!(at.nanosecond(), 120_000_000);
    assert_eq!(note.day.unwrap().month(), time::Month::February);
    assert_eq!(note.time.unwrap().nanosecond(), 500_000_000);

    let input = full_typed::CreateNoteInput {
        title: "T".into(),
        body: Nullable::Absent,
        status: Nullable::Absent,
        tags: Nullable::Absent,
        meta: Nullable::Value(Meta {
            a: 1,
            labels: vec![],
        }),
        created_at: Nullable::Value(time::OffsetDateTime::UNIX_EPOCH),
        day: Nullable::Null,
        time: Nullable::Value(time::Time::MIDNIGHT),
        version: Nullable::Absent,
    };
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({
            "title": "T",
            "meta": "{\"a\":1,\"labels\":[]}",
            "createdAt": "1970-01-01T00:00:00Z",
            "day": null,
            "time": "00:00:00"
        })
    );
    let user: full_typed::get_note::NoteAuthor = serde_json::from_value(json!(
        {"id": "u1", "name": "A", "email": null}
    ))
    .unwrap();
    assert_eq!(user.id, "u1");
    let _: Option<Url> = None;
}

#[test]
fn generated_statements_are_typed_operations() {
    assert!(notes_statements::get_note::QUERY
        .starts_with("query GetNote($id: ID!) { getNote(id: $id) {"));
    let data: notes_statements::list_notes::ResponseData = roundtrip(json!({
        "listNotes": {"items": [{"id": "n1", "content": "c", "owner": null, "createdAt": null,
                                  "updatedAt": null, "privateNotes": null}],
                      "nextToken": null}
    }));
    assert_eq!(data.list_notes.unwrap().items[0].id, "n1");
    // privateNotes (user pools and IAM only) narrows the statement's modes.
    assert_eq!(
        notes_statements::GetNote::ALLOWED_AUTH_MODES,
        &[AuthMode::Iam, AuthMode::UserPools]
    );
    assert_eq!(
        notes_statements::AdminStats::ALLOWED_AUTH_MODES,
        &[AuthMode::UserPools]
    );
    assert_eq!(
        notes_statements::admin_stats::USER_POOL_GROUPS,
        &[&["admins"][..]]
    );
    assert_eq!(
        notes_statements::OnDeleteNote::KIND,
        OperationKind::Subscription
    );
}

#[test]
fn the_default_one_way_derives() {
    // Responses deserialize, variables serialize: the same JSON as the two-way code.
    let wire = json!({ "search": [
        {"__typename": "Comment", "id": "c1", "text": "Nice", "note": {"id": "n1", "title": "T", "status": "DRAFT", "tags": []}},
        {"__typename": "User", "id": "u1", "name": "Bob", "email": null}
    ]});
    let one: full_one_way::search::ResponseData = serde_json::from_value(wire.clone()).unwrap();
    let two: full::search::ResponseData = serde_json::from_value(wire).unwrap();
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
    let data: full_one_way::get_note::ResponseData =
        serde_json::from_value(json!({ "note": note_json() })).unwrap();
    assert_eq!(
        data.note.unwrap().meta,
        Some(json!({"a": 1, "nested": {"b": [true, null]}}))
    );
    let v = full_one_way::update_note::Variables {
        input: full_one_way::UpdateNoteInput {
            id: "n1".into(),
            title: Nullable::Absent,
            body: Nullable::Null,
            meta: Nullable::Value(json!([1])),
            status: Nullable::Absent,
            #[allow(deprecated)]
            old_field: Nullable::Absent,
        },
    };
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({"input": {"id": "n1", "body": null, "meta": "[1]"}})
    );
}

#[test]
fn missing_and_unknown_keys() {
    // A missing required field is an error naming it; a missing nullable one is None;
    // unknown keys are skipped.
    let e = serde_json::from_value::<full_one_way::update_note::ResponseData>(json!({
        "updateNote": {"meta": null}
    }))
    .unwrap_err();
    assert!(e.to_string().contains("missing field `id`"), "{e}");
    let d: full_one_way::update_note::ResponseData = serde_json::from_value(json!({
        "updateNote": {"id": "n1", "extra": {"deep": [1, 2]}}
    }))
    .unwrap();
    let n = d.update_note.unwrap();
    assert_eq!((n.id.as_str(), n.meta), ("n1", None));
    // Keys are read from a string too (not only borrowed from the input).
    let d: full_one_way::update_note::ResponseData =
        serde_json::from_reader(&br#"{"updateNote": {"i\u0064": "n2"}}"#[..]).unwrap();
    assert_eq!(d.update_note.unwrap().id, "n2");
}

/// The real-schema corpus compiled (see `build.rs`): a union event through the masterclass
/// subscription, and the modes of a few operations as the client sees them.
#[test]
fn the_corpus_compiles_and_reads_real_shapes() {
    use appsync_codegen_roundtrip::corpus::{appsyncmasterclass as mc, idp, workload_discovery};
    let data: mc::on_notified::ResponseData = serde_json::from_value(json!({
        "onNotified": {
            "__typename": "Liked", "id": "n1", "type": "Liked", "userId": "u1",
            "createdAt": "2024-01-01T00:00:00.000Z", "tweetId": "t1", "likedBy": "u2"
        }
    }))
    .unwrap();
    let n = data.on_notified.expect("an event");
    assert_eq!(n.user_id, "u1");
    match n.on {
        mc::on_notified::OnNotifiedOn::Liked(l) => assert_eq!(l.liked_by, "u2"),
        other => panic!("expected Liked, got {other:?}"),
    }
    assert_eq!(mc::OnNotified::ALLOWED_AUTH_MODES, [AuthMode::UserPools]);
    assert_eq!(mc::OnNotified::KIND, OperationKind::Subscription);
    assert_eq!(mc::NotifyLiked::ALLOWED_AUTH_MODES, [AuthMode::Iam]);
    assert_eq!(idp::OnCreateDocument::ALLOWED_AUTH_MODES, [AuthMode::Iam]);
    assert_eq!(
        workload_discovery::AddAccounts::ALLOWED_AUTH_MODES,
        [AuthMode::Iam, AuthMode::UserPools]
    );
}
