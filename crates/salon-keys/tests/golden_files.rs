//! Encrypted key files written by bittensor-wallet 4.1.1 (fixtures/), read by Salon: the `$NACL`
//! coldkey of a wallet and a legacy Ansible Vault hotkey. No Python needed to run these.

use salon_keys::encryption::{self, EncryptionError};
use salon_keys::{keyfile, Wallet, WalletError};
use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn nacl_coldkey_from_bittensor_wallet_opens_with_its_password_only() {
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::new(dir.path(), "py", "default");
    std::fs::create_dir_all(w.dir()).unwrap();
    std::fs::write(w.coldkey_path(), fixture("nacl_coldkey_pw123")).unwrap();
    std::fs::write(w.coldkeypub_path(), fixture("nacl_coldkeypub.txt")).unwrap();

    assert!(w.coldkey_encryption().unwrap().is_encrypted());
    assert!(matches!(
        w.coldkey(None),
        Err(WalletError::PasswordRequired(_))
    ));
    let cold = w.coldkey(Some("pw123")).unwrap();
    assert_eq!(
        cold.ss58(),
        "5H1XHWnzkVUn9VF3iuSETRHQdXYZR1iftGwq6ZzybPeqWvyf"
    );
    assert_eq!(w.coldkeypub().unwrap(), cold.public());

    let err = w.coldkey(Some("pw124")).unwrap_err();
    assert!(
        matches!(
            err,
            WalletError::Decrypt {
                source: EncryptionError::WrongPassword,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn ansible_vault_hotkey_from_bittensor_wallet_decrypts() {
    let data = fixture("ansible_vault_hotkey_vaultpw");
    let plain = encryption::decrypt(&data, b"vaultpw").unwrap();
    let kp = keyfile::keypair_from_json(&plain).unwrap();
    assert_eq!(
        kp.ss58(),
        "5DxtWTBoHSRUT96bf3s4C9VguS8mECcMd5WYiVNVmgk5g5JA"
    );
    assert!(matches!(
        encryption::decrypt(&data, b"vaultpx"),
        Err(EncryptionError::WrongPassword)
    ));
}

#[test]
#[ignore = "10^7 PBKDF2 rounds take about a minute in a debug build; run with --ignored (seconds with --release)"]
fn legacy_fernet_hotkey_decrypts_with_the_bittensor_kdf() {
    // Made by a Python script following bittensor 3.x's legacy scheme (PBKDF2-HMAC-SHA256 with its
    // fixed salt and 10^7 rounds, then Fernet with pycryptodome's AES); bittensor-wallet 4.x itself
    // can no longer open such files. The Fernet format is checked against the spec's vector in
    // the unit tests; this checks the key derivation around it.
    let data = fixture("fernet_hotkey_fernetpw");
    let plain = encryption::decrypt(&data, b"fernetpw").unwrap();
    let kp = keyfile::keypair_from_json(&plain).unwrap();
    assert_eq!(
        kp.ss58(),
        "5DxtWTBoHSRUT96bf3s4C9VguS8mECcMd5WYiVNVmgk5g5JA"
    );
}
