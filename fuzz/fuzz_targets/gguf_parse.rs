//! Any byte string given to the GGUF parser must give a header or an error: no panic, no
//! allocation beyond what the input can justify, no out-of-bounds tensor extents.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = samtal_gguf::Gguf::parse(data) {
        for t in &g.tensors {
            assert!(t.offset + t.n_bytes <= data.len() as u64);
            assert_eq!(t.ty.bytes_for(t.n_elements()), Some(t.n_bytes));
        }
        let md = &g.metadata;
        let _ = md.str_array("tokenizer.ggml.tokens");
        let _ = md.f32_array("tokenizer.ggml.scores");
        let _ = md.u64("general.alignment");
    }
});
