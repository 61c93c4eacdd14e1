use super::*;

fn sample() -> Vec<u8> {
    let mut w = Writer::new();
    w.metadata("general.architecture", Value::String("llama".into()))
        .metadata("llama.block_count", Value::U32(2))
        .metadata(
            "tokenizer.ggml.tokens",
            Value::Array(vec![Value::String("a".into()), Value::String("b".into())]),
        )
        .f32_tensor("w", &[2, 3], &[1., 2., 3., 4., 5., 6.])
        .f32_tensor("v", &[4], &[1., 2., 3., 4.]);
    w.to_bytes()
}

#[test]
fn round_trips_metadata_and_tensors() {
    let bytes = sample();
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.version, 3);
    assert_eq!(
        g.metadata.require_str("general.architecture").unwrap(),
        "llama"
    );
    assert_eq!(g.metadata.require_u64("llama.block_count").unwrap(), 2);
    assert_eq!(
        g.metadata
            .str_array("tokenizer.ggml.tokens")
            .unwrap()
            .unwrap(),
        vec!["a", "b"]
    );
    let w = g.tensor("w").unwrap();
    assert_eq!(w.dims, vec![3, 2]);
    assert_eq!(w.shape(), vec![2, 3]);
    let data = &bytes[w.offset as usize..(w.offset + w.n_bytes) as usize];
    assert_eq!(f32::from_le_bytes(data[20..24].try_into().unwrap()), 6.0);
    assert_eq!(g.data_offset % 32, 0);
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = sample();
    for len in 0..bytes.len() {
        assert!(
            Gguf::parse(&bytes[..len]).is_err(),
            "prefix of {len} bytes parsed"
        );
    }
}

#[test]
fn wrong_type_names_the_key() {
    let g = Gguf::parse(&sample()).unwrap();
    let err = g.metadata.require_u64("general.architecture").unwrap_err();
    assert!(err.to_string().contains("general.architecture"), "{err}");
    assert!(matches!(
        g.metadata.require_u64("missing.key"),
        Err(Error::MissingKey(_))
    ));
}

#[test]
fn absurd_counts_do_not_allocate() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"GGUF");
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(Gguf::parse(&bytes), Err(Error::Truncated { .. })));
}

#[test]
fn absurd_dimension_is_rejected() {
    let mut w = Writer::new();
    w.tensor("huge", &[1 << 41, 1 << 41], GgmlType::F32, vec![]);
    let err = Gguf::parse(&w.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("huge"), "{err}");
}

#[test]
fn unknown_tensor_type_is_named() {
    let mut bytes = sample();
    // Patch the type id of the first tensor ("w", rank 2): find it after its dims.
    let g = Gguf::parse(&bytes).unwrap();
    let _ = g;
    let needle = {
        let mut n = Vec::new();
        n.extend_from_slice(&1u64.to_le_bytes());
        n.extend_from_slice(b"w");
        n.extend_from_slice(&2u32.to_le_bytes());
        n
    };
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let type_at = at + needle.len() + 16;
    bytes[type_at..type_at + 4].copy_from_slice(&99u32.to_le_bytes());
    let err = Gguf::parse(&bytes).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedTensorType { ref name, type_id: 99 } if name == "w"),
        "{err}"
    );
}

#[test]
fn bad_magic_and_version() {
    assert!(matches!(
        Gguf::parse(b"GGML\x03\0\0\0"),
        Err(Error::BadMagic(_))
    ));
    let mut b = b"GGUF".to_vec();
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&[0; 16]);
    assert!(matches!(Gguf::parse(&b), Err(Error::UnsupportedVersion(1))));
}
