//! The YAML fast reader either refuses its input or reads exactly what
//! serde-saphyr reads.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = vigil::sources::fuzzing::yaml_agrees(text) {
            panic!("{e}\nfor: {text:?}");
        }
    }
});
