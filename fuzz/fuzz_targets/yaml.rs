//! The fast YAML parser against the event parser: wherever the fast one
//! takes a text, both give the same trees, spans, indexes, warnings and
//! comments (the places suppression markers are read from), and the event
//! parser finds no error in it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::yaml::{
    parse_events_with_comments, parse_fast_with_comments, parse_stream_events, parse_stream_fast,
    Limits,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(fast) = parse_stream_fast(text, Limits::default()) else {
        return;
    };
    let (events, err) = parse_stream_events(text, Limits::default());
    assert!(err.is_none(), "the fast parser took a text with an error: {err:?}");
    assert_eq!(fast.len(), events.len(), "documents");
    for (f, e) in fast.iter().zip(&events) {
        assert_eq!(f.index, e.index);
        // Debug text: NaN equals NaN there.
        assert_eq!(format!("{:?}", f.root), format!("{:?}", e.root));
        assert_eq!(f.warnings, e.warnings);
        assert_eq!(f.more_warnings, e.more_warnings);
    }
    let fast = parse_fast_with_comments(text, Limits::default()).map(|p| p.comments);
    let events = parse_events_with_comments(text, Limits::default()).comments;
    assert_eq!(fast, Some(events), "comments");
});
