use ipe_host::PolicyEngine;
use ipe_nostd::Bundle;

/// A bundle reading `n` string attributes `r.a00`, `r.a01`, ... (one node of `n` children in
/// the one-pass reader's plan).
fn wide(n: usize) -> Vec<u8> {
    let mut src = String::from("schema {\n");
    for i in 0..n {
        src.push_str(&format!("  r.a{i:02}: string\n"));
    }
    src.push_str("}\ndefault deny\n\npolicy Wide:\n  \"every attribute is x\"\n  requires\n");
    for i in 0..n {
        let and = if i == 0 { "    " } else { "    and " };
        src.push_str(&format!("{and}r.a{i:02} == \"x\"\n"));
    }
    crate::common::bundle(&src)
}

/// The request `{"r": {...}}` with these (key, value) entries.
fn request(entries: &[(String, &str)]) -> String {
    let fields: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("\"{k}\": \"{v}\""))
        .collect();
    format!("{{\"r\": {{{}}}}}", fields.join(", "))
}

/// Keys in the plan's order, in reverse, shuffled, with unknown keys among them: the one-pass
/// reader matches each key (by the expected-next compare, a scan, or the hash table past 16
/// children) and decides as the `serde_json::Value` path does.
#[test]
fn issue15_keys_in_any_order_are_matched_on_wide_nodes() {
    for n in [3, 16, 17, 70] {
        let bytes = wide(n);
        let bundle = Bundle::from_bytes(&bytes).expect("verifies");
        let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
        let set = engine.load();
        let keys: Vec<String> = (0..n).map(|i| format!("a{i:02}")).collect();
        let mut orders: Vec<Vec<(String, &str)>> = Vec::new();
        orders.push(keys.iter().map(|k| (k.clone(), "x")).collect());
        orders.push(keys.iter().rev().map(|k| (k.clone(), "x")).collect());
        // Every third key first, then the rest, with unknown keys in between.
        let mut mixed: Vec<(String, &str)> = Vec::new();
        for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            mixed.push((k.clone(), "x"));
            mixed.push((format!("zz{i}"), "y"));
        }
        for k in keys.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
            mixed.push((k.1.clone(), "x"));
        }
        orders.push(mixed.clone());
        // One attribute is not x: denied, naming it.
        let mut one_off = mixed;
        if let Some(last) = one_off.last_mut() {
            last.1 = "y";
        }
        orders.push(one_off);
        // One attribute missing.
        orders.push(keys.iter().skip(1).map(|k| (k.clone(), "x")).collect());
        for entries in &orders {
            let text = request(entries);
            let value = ipe_host::request::parse_value(&text).expect("valid");
            let want = ipe_host::evaluate_json(&bundle, &value).to_json();
            let got = set.report_json(&text).expect("an object").to_json();
            assert_eq!(got, want, "{n} attributes: {text}");
        }
        let all = request(&orders[0]);
        let d = set.evaluate_json(&all).expect("an object");
        assert_eq!(d.effect, ipe_nostd::Effect::Allow, "{n} attributes: {all}");
    }
}

/// A repeated key is found whether the plan expects it (its bit among the node's first 64
/// children, or past them) or not, and the smallest repeated key is named, as the
/// `serde_json::Value` path names it.
#[test]
fn issue15_repeated_keys_on_wide_nodes_name_the_smallest() {
    let bytes = wide(70);
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    let e = |k: &str| (k.to_string(), "x");
    for (entries, key) in [
        (vec![e("a03"), e("a01"), e("a03")], "a03"),
        (vec![e("a66"), e("a65"), e("a66")], "a66"),
        (vec![e("zz"), e("zy"), e("zz")], "zz"),
        (vec![e("zz"), e("a66"), e("zz"), e("a66")], "a66"),
        (vec![e("a66"), e("a05"), e("a66"), e("a05")], "a05"),
        (
            vec![e("b"), e("a07"), e("b"), e("a07"), e("a"), e("a")],
            "a",
        ),
        (vec![e("a00"), e("a01"), e("a02"), e("a01")], "a01"),
    ] {
        let text = request(&entries);
        let want = format!("malformed request: duplicate key `{key}`");
        let value = ipe_host::request::parse_value(&text).expect_err("value path rejects");
        assert!(value.to_string().starts_with(&want), "{text}: {value}");
        let got = set
            .evaluate_json(&text)
            .expect_err("one-pass reader rejects");
        assert_eq!(got.to_string(), value.to_string(), "{text}");
    }
}
