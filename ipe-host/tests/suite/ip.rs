//! Issue 14: `ip` attributes and record fields read by the typed builder as by the JSON readers
//! (a string for an `ip` slot is parsed; malformed text is an invalid attribute naming the path).

use ipe_host::{Field, PolicyEngine};

const SOURCE: &str = r#"
default allow
schema {
  src: ip
  flows: list of flow max 4 { peer: ip }
}
policy Private:
  "private"
  triggers when src in ["10.0.0.0/8", "fc00::/7"]
  denies
policy Peer:
  "peer"
  triggers when any(f in flows where f.peer == "2001:db8::1")
  denies
"#;

#[test]
fn issue14_the_typed_builder_reads_addresses_as_the_json_readers_do() {
    let engine = PolicyEngine::from_bytes(crate::common::bundle(SOURCE)).expect("loads");
    let set = engine.load();
    let arena = bumpalo::Bump::new();
    for (src, peer) in [
        ("10.1.2.3", "2001:DB8::1"),
        ("::ffff:10.0.0.1", "2001:db8::2"),
        ("8.8.8.8", "2001:db8:0:0:0:0:0:1"),
        ("fd00::1", "not an address"),
        ("10.0.0.256", "2001:db8::1"),
        ("", "::"),
    ] {
        let mut req = set.request(&arena);
        req.str("src", src)
            .records("flows", [[("peer", Field::Str(peer))]]);
        let typed = req.evaluate().expect("a well-formed request");
        let json = format!(r#"{{"src": "{src}", "flows": [{{"peer": "{peer}"}}]}}"#);
        let read = set.evaluate_json(&json).expect("a well-formed request");
        assert_eq!(typed, read, "{src} {peer}");
    }
    // Not vacuous: a malformed source is an error naming `src`, an int the wrong type.
    let mut req = set.request(&arena);
    req.str("src", "10.0.0.256");
    let d = req.evaluate().expect("well formed");
    let errors: Vec<String> = set.report(&d).errors.into_iter().map(|e| e.error).collect();
    // (`flows` is not set: the other policy's error names it.)
    assert_eq!(
        errors,
        [
            "attribute `src` is not an IP address",
            "missing attribute `flows`"
        ]
    );
    let mut req = set.request(&arena);
    req.int("src", 167772161);
    let d = req.evaluate().expect("well formed");
    let errors: Vec<String> = set.report(&d).errors.into_iter().map(|e| e.error).collect();
    assert_eq!(
        errors,
        [
            "attribute `src` has the wrong type: expected ip, got int",
            "missing attribute `flows`"
        ]
    );
    let mut req = set.request(&arena);
    req.str("src", "10.255.255.255")
        .records("flows", [[("peer", Field::Str("2001:db8::1"))]]);
    let d = req.evaluate().expect("well formed");
    assert_eq!(d.violations().len(), 2);
}
