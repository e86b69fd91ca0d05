//! Fuzz target: the client's realtime socket actor driven by a script of server frames, close
//! frames, read errors, dropped connections, connection outcomes, provider failures, client
//! subscribes, unsubscribes and reads, and time passing, over in-memory sockets on a
//! current-thread runtime with paused time (see `appsync_client::fuzzing::realtime_actor`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    appsync_client::fuzzing::realtime_actor(data);
});
