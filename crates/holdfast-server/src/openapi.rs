//! The API's OpenAPI 3.1 document, written by hand beside the routes; a test checks
//! that every route is in it with the scope it needs.

/// `GET /api/v1/openapi.json`.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    /// Every `.route("PATH", METHOD(...))` of the router is in the document with that
    /// method, and the document has no path the router lacks.
    #[test]
    fn the_document_matches_the_router() {
        let doc: serde_json::Value = serde_json::from_str(super::DOCUMENT).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let source = include_str!("api.rs");
        let mut routed = std::collections::BTreeSet::new();
        for part in source.split(".route(\"").skip(1) {
            let (path, rest) = part.split_once('"').unwrap();
            let method = rest
                .trim_start_matches(", ")
                .split('(')
                .next()
                .unwrap()
                .to_string();
            assert!(
                paths.get(path).and_then(|p| p.get(&method)).is_some(),
                "{method} {path} is routed but not documented"
            );
            routed.insert(path.to_string());
        }
        for path in paths.keys() {
            assert!(routed.contains(path), "{path} is documented but not routed");
        }
        assert!(routed.len() >= 20);
    }
}
