//! Table definitions shared by both backends (kept by hand: both migration sets must match it).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        org_id -> Nullable<BigInt>,
        password_hash -> Text,
        active -> Bool,
        token_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        created_at -> Timestamp,
        template -> Text,
        to_addr -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    streets (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    communities (id) {
        id -> BigInt,
        street_id -> BigInt,
        code -> Text,
        name -> Text,
        grid_count -> Integer,
    }
}

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        registration -> Text,
        credit_code -> Nullable<Text>,
        registered_on -> Nullable<Date>,
        registration_authority -> Nullable<Text>,
        legal_representative -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        address -> Nullable<Text>,
        street_id -> Nullable<BigInt>,
        staff_count -> Integer,
        volunteer_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisation_fields (organisation_id, field) {
        organisation_id -> BigInt,
        field -> Text,
    }
}

diesel::table! {
    organisation_areas (organisation_id, street_id) {
        organisation_id -> BigInt,
        street_id -> BigInt,
    }
}

diesel::table! {
    organisation_ratings (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        grade -> Integer,
        awarded_on -> Date,
        expires_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organisation_inspections (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        year -> Integer,
        kind -> Text,
        conclusion -> Text,
        decided_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_listings (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        list -> Text,
        source -> Text,
        listed_on -> Date,
        removed_on -> Nullable<Date>,
        evidence_sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bases (id) {
        id -> BigInt,
        name -> Text,
        level -> Text,
        parent_id -> Nullable<BigInt>,
        street_id -> Nullable<BigInt>,
        community_id -> Nullable<BigInt>,
        operator_id -> Nullable<BigInt>,
        seats -> Integer,
        address -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        onsite -> Bool,
        virtual_mode -> Bool,
        services -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    incubations (id) {
        id -> BigInt,
        base_id -> BigInt,
        organisation_id -> Nullable<BigInt>,
        group_name -> Nullable<Text>,
        state -> Text,
        mode -> Nullable<Text>,
        stage -> Nullable<Text>,
        applied_on -> Date,
        decision_due -> Date,
        decided_on -> Nullable<Date>,
        reject_reason -> Nullable<Text>,
        start_on -> Nullable<Date>,
        planned_end -> Nullable<Date>,
        graduated_on -> Nullable<Date>,
        checklist -> Nullable<Text>,
        exited_on -> Nullable<Date>,
        exit_reason -> Nullable<Text>,
        space_return_due -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    social_workers (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        id_hash -> Nullable<Text>,
        phone -> Nullable<Text>,
        certificate_level -> Text,
        certificate_number -> Nullable<Text>,
        certified_on -> Nullable<Date>,
        employment -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    social_worker_streets (social_worker_id, street_id) {
        social_worker_id -> BigInt,
        street_id -> BigInt,
    }
}

diesel::table! {
    change_requests (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        requested_by -> BigInt,
        changes -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(audit_events -> users (actor_id));
diesel::joinable!(communities -> streets (street_id));
diesel::joinable!(organisations -> streets (street_id));
diesel::joinable!(organisation_fields -> organisations (organisation_id));
diesel::joinable!(organisation_areas -> organisations (organisation_id));
diesel::joinable!(organisation_areas -> streets (street_id));
diesel::joinable!(organisation_ratings -> organisations (organisation_id));
diesel::joinable!(organisation_inspections -> organisations (organisation_id));
diesel::joinable!(credit_listings -> organisations (organisation_id));
diesel::joinable!(bases -> streets (street_id));
diesel::joinable!(bases -> communities (community_id));
diesel::joinable!(bases -> organisations (operator_id));
diesel::joinable!(incubations -> bases (base_id));
diesel::joinable!(incubations -> organisations (organisation_id));
diesel::joinable!(social_workers -> organisations (organisation_id));
diesel::joinable!(social_worker_streets -> social_workers (social_worker_id));
diesel::joinable!(social_worker_streets -> streets (street_id));
diesel::joinable!(change_requests -> organisations (organisation_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    audit_events,
    outbox,
    streets,
    communities,
    organisations,
    organisation_fields,
    organisation_areas,
    organisation_ratings,
    organisation_inspections,
    credit_listings,
    bases,
    incubations,
    social_workers,
    social_worker_streets,
    change_requests
);
