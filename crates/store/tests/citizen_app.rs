//! Conformance of the citizen app's storage on both backends: one-time-code limits and redemption,
//! accounts and their sessions, managed people, insurance cards.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use vaxtrace_domain::{Jurisdiction, PersonalId};
use vaxtrace_store::testing::TestDb;
use vaxtrace_store::{
    AddPerson, Backend, InsuranceCard, NewChallenge, NewCitizenAccount, OtpPurpose, Redeem,
    SendLimit, Store, StoreError,
};

const NOW: OffsetDateTime = datetime!(2021-11-23 12:00 +7);
const AN: &str = "091087123456";
const BINH: &str = "091195000001";

async fn setup(backend: Backend) -> Option<(TestDb, Arc<dyn Store>)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    Some((db, store))
}

fn id(raw: &str) -> PersonalId {
    PersonalId::parse(raw).unwrap()
}

fn challenge(n: u8, person: &str, phone: &str, at: OffsetDateTime) -> NewChallenge {
    NewChallenge {
        id: format!("challenge-{n}"),
        purpose: OtpPurpose::Signup,
        personal_id: id(person),
        phone: phone.into(),
        code_hash: [n; 32],
        created_at: at,
        expires_at: at + Duration::minutes(5),
        spent: false,
    }
}

const LIMIT: SendLimit = SendLimit {
    since: datetime!(2021-11-23 11:45 +7),
    per_person: 2,
    per_phone: 3,
};

async fn codes_are_limited_per_person_and_per_phone(backend: Backend) {
    let Some((_db, store)) = setup(backend).await else {
        return;
    };
    let phone = "0912345678";
    assert!(
        store
            .insert_challenge(challenge(1, AN, phone, NOW), LIMIT)
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_challenge(challenge(2, AN, phone, NOW), LIMIT)
            .await
            .unwrap()
    );
    // A third code for the same person is refused and not stored.
    assert!(
        !store
            .insert_challenge(challenge(3, AN, phone, NOW), LIMIT)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .redeem_challenge("challenge-3".into(), [3; 32], NOW, 5)
            .await
            .unwrap(),
        Redeem::Unknown
    );
    // Another person may still use the phone once more, then the phone is at its limit.
    assert!(
        store
            .insert_challenge(challenge(4, BINH, phone, NOW), LIMIT)
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_challenge(challenge(5, BINH, phone, NOW), LIMIT)
            .await
            .unwrap()
    );
    // A refused attempt is stored spent: it counts, and no code redeems it.
    let mut refused = challenge(7, "091195000002", "0900000001", NOW);
    refused.spent = true;
    assert!(store.insert_challenge(refused, LIMIT).await.unwrap());
    assert_eq!(
        store
            .redeem_challenge("challenge-7".into(), [7; 32], NOW, 5)
            .await
            .unwrap(),
        Redeem::Unknown
    );
    // Codes older than the window do not count.
    let later = SendLimit {
        since: NOW + Duration::minutes(1),
        ..LIMIT
    };
    assert!(
        store
            .insert_challenge(challenge(6, AN, phone, NOW), later)
            .await
            .unwrap()
    );
}

async fn a_code_is_spent_once_and_locks_after_wrong_tries(backend: Backend) {
    let Some((_db, store)) = setup(backend).await else {
        return;
    };
    let wide = SendLimit {
        per_person: 10,
        per_phone: 10,
        ..LIMIT
    };
    store
        .insert_challenge(challenge(1, AN, "0912345678", NOW), wide)
        .await
        .unwrap();
    let redeem = |code: u8, at| store.redeem_challenge("challenge-1".into(), [code; 32], at, 3);
    assert_eq!(
        redeem(9, NOW).await.unwrap(),
        Redeem::Wrong { attempts_left: 2 }
    );
    match redeem(1, NOW).await.unwrap() {
        Redeem::Accepted(c) => {
            assert_eq!(c.personal_id, id(AN));
            assert_eq!(c.phone, "0912345678");
            assert_eq!(c.purpose, OtpPurpose::Signup);
        }
        other => panic!("expected accepted, got {other:?}"),
    }
    assert_eq!(redeem(1, NOW).await.unwrap(), Redeem::Unknown, "spent");

    store
        .insert_challenge(challenge(2, AN, "0912345678", NOW), wide)
        .await
        .unwrap();
    let redeem2 = |code: u8| store.redeem_challenge("challenge-2".into(), [code; 32], NOW, 3);
    assert_eq!(
        redeem2(9).await.unwrap(),
        Redeem::Wrong { attempts_left: 2 }
    );
    assert_eq!(
        redeem2(9).await.unwrap(),
        Redeem::Wrong { attempts_left: 1 }
    );
    assert_eq!(redeem2(9).await.unwrap(), Redeem::Locked);
    assert_eq!(
        redeem2(2).await.unwrap(),
        Redeem::Locked,
        "the right code no longer works"
    );

    store
        .insert_challenge(challenge(3, AN, "0912345678", NOW), wide)
        .await
        .unwrap();
    let late = NOW + Duration::minutes(5);
    assert_eq!(
        store
            .redeem_challenge("challenge-3".into(), [3; 32], late, 3)
            .await
            .unwrap(),
        Redeem::Expired
    );
}

async fn accounts_bind_a_phone_and_manage_people(backend: Backend) {
    let Some((_db, store)) = setup(backend).await else {
        return;
    };
    let new = NewCitizenAccount {
        personal_id: id(AN),
        phone: "0912345678".into(),
        jurisdiction: Jurisdiction::parse("30730").unwrap(),
        at: NOW,
    };
    let account = store.create_citizen_account(new.clone()).await.unwrap();
    assert_eq!(account.personal_id, id(AN));
    assert!(matches!(
        store.create_citizen_account(new).await,
        Err(StoreError::Conflict(_))
    ));
    let user = store
        .user_by_username(&format!("citizen-{AN}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, account.user_id);
    assert_eq!(user.role, vaxtrace_domain::Role::Citizen);
    assert_eq!(
        store
            .citizen_account_of_user(user.id)
            .await
            .unwrap()
            .unwrap(),
        account
    );

    // Re-binding the phone ends the account's sessions.
    store
        .create_session([1; 32], user.id, NOW + Duration::hours(8))
        .await
        .unwrap();
    assert!(store.session_user([1; 32], NOW).await.unwrap().is_some());
    assert!(
        store
            .rebind_phone(id(AN), "0987654321".into(), NOW)
            .await
            .unwrap()
    );
    assert!(store.session_user([1; 32], NOW).await.unwrap().is_none());
    assert_eq!(
        store.citizen_account(id(AN)).await.unwrap().unwrap().phone,
        "0987654321"
    );
    assert!(
        !store
            .rebind_phone(id(BINH), "0987654321".into(), NOW)
            .await
            .unwrap()
    );

    let add = |person, max| store.add_account_person(id(AN), id(person), "child", NOW, max);
    assert_eq!(add(BINH, 12).await.unwrap(), AddPerson::Added);
    assert_eq!(add(BINH, 12).await.unwrap(), AddPerson::AlreadyThere);
    assert_eq!(add("091195000002", 2).await.unwrap(), AddPerson::Full);
    let people = store.account_people(id(AN)).await.unwrap();
    let listed: Vec<_> = people
        .iter()
        .map(|p| (p.personal_id.to_string(), p.relation.as_str()))
        .collect();
    assert_eq!(
        listed,
        [(AN.to_owned(), "self"), (BINH.to_owned(), "child")]
    );

    // Bình signs up herself: An's account stops managing her.
    let binh = NewCitizenAccount {
        personal_id: id(BINH),
        phone: "0900000002".into(),
        jurisdiction: Jurisdiction::parse("30733").unwrap(),
        at: NOW,
    };
    store.create_citizen_account(binh).await.unwrap();
    assert_eq!(store.account_people(id(AN)).await.unwrap().len(), 1);
    assert!(!store.remove_account_person(id(AN), id(BINH)).await.unwrap());
    assert!(
        !store.remove_account_person(id(AN), id(AN)).await.unwrap(),
        "never the holder"
    );
    store
        .add_account_person(id(AN), id("091195000002"), "child", NOW, 12)
        .await
        .unwrap();
    assert!(
        store
            .remove_account_person(id(AN), id("091195000002"))
            .await
            .unwrap()
    );
    assert_eq!(store.account_people(id(AN)).await.unwrap().len(), 1);
}

async fn sign_up_never_takes_over_another_users_row(backend: Backend) {
    let Some((_db, store)) = setup(backend).await else {
        return;
    };
    store
        .create_user(vaxtrace_store::NewUser {
            username: format!("citizen-{AN}"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into(),
            role: vaxtrace_domain::Role::VenueOwner,
            jurisdiction: Jurisdiction::parse("30730").unwrap(),
        })
        .await
        .unwrap();
    let new = NewCitizenAccount {
        personal_id: id(AN),
        phone: "0912345678".into(),
        jurisdiction: Jurisdiction::parse("30730").unwrap(),
        at: NOW,
    };
    assert!(matches!(
        store.create_citizen_account(new).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store.citizen_account(id(AN)).await.unwrap().is_none(),
        "nothing half-written"
    );
}

async fn insurance_cards_are_replaced_by_personal_id(backend: Backend) {
    let Some((_db, store)) = setup(backend).await else {
        return;
    };
    let card = |number: &str| InsuranceCard {
        personal_id: id(AN),
        card_number: number.into(),
        valid_from: Some("2021-01-01".into()),
        valid_to: Some("2021-12-31".into()),
        source: "bhxh-2021-11".into(),
    };
    assert_eq!(
        store
            .upsert_insurance_cards(vec![card("DN4910123456789")], NOW)
            .await
            .unwrap(),
        1
    );
    store
        .upsert_insurance_cards(vec![card("HC4910123456789")], NOW)
        .await
        .unwrap();
    assert_eq!(
        store.insurance_card(id(AN)).await.unwrap(),
        Some(card("HC4910123456789"))
    );
    assert_eq!(store.insurance_card(id(BINH)).await.unwrap(), None);
}

vaxtrace_store::on_both_backends!(
    codes_are_limited_per_person_and_per_phone,
    a_code_is_spent_once_and_locks_after_wrong_tries,
    accounts_bind_a_phone_and_manage_people,
    insurance_cards_are_replaced_by_personal_id,
    sign_up_never_takes_over_another_users_row,
);
