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
    /// Signed-out tokens, by JWT id, until they would have expired.
    revoked_tokens (jti) {
        jti -> Text,
        user_id -> BigInt,
        revoked_at -> Timestamp,
        expires_at -> Timestamp,
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
    chain_checkpoints (id) {
        id -> BigInt,
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
        signed_at -> Timestamp,
        signed_by -> Text,
        public_key -> Text,
        signature -> Text,
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
        standing -> Text,
        standing_basis -> Text,
        search_version -> Integer,
    }
}

diesel::table! {
    organisation_fields (organisation_id, field) {
        organisation_id -> BigInt,
        field -> Text,
    }
}

diesel::table! {
    organisation_terms (term, organisation_id) {
        term -> Text,
        organisation_id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    organisation_counts (registration, kind, standing) {
        registration -> Text,
        kind -> Text,
        standing -> Text,
        n -> BigInt,
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
        grade -> Nullable<Integer>,
        awarded_on -> Date,
        expires_on -> Date,
        created_at -> Timestamp,
        decision -> Text,
        reason -> Nullable<Text>,
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
        person_hash -> Nullable<Text>,
        verified_at -> Nullable<Timestamp>,
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

diesel::table! {
    tenders (id) {
        id -> BigInt,
        code -> Text,
        title -> Text,
        description -> Text,
        field -> Text,
        communities -> Text,
        budget_fen -> BigInt,
        method -> Text,
        term_months -> Integer,
        term_reason -> Nullable<Text>,
        eligibility -> Text,
        criteria -> Text,
        targets -> Text,
        instalments -> Text,
        invited -> Text,
        state -> Text,
        published_at -> Nullable<Timestamp>,
        enquiry_deadline -> Timestamp,
        bid_deadline -> Timestamp,
        opening_at -> Timestamp,
        evaluated_at -> Nullable<Timestamp>,
        publicity_ends -> Nullable<Timestamp>,
        challenge_ends -> Nullable<Timestamp>,
        award_bid_id -> Nullable<BigInt>,
        award_reason -> Nullable<Text>,
        awarded_at -> Nullable<Timestamp>,
        contract_signed_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        result_published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tender_documents (tender_id) {
        tender_id -> BigInt,
        available_from -> Date,
        available_until -> Date,
    }
}

diesel::table! {
    tender_streets (tender_id, street_id) {
        tender_id -> BigInt,
        street_id -> BigInt,
    }
}

diesel::table! {
    tender_events (id) {
        id -> BigInt,
        tender_id -> BigInt,
        at -> Timestamp,
        from_state -> Nullable<Text>,
        to_state -> Text,
        note -> Nullable<Text>,
        actor_name -> Text,
    }
}

diesel::table! {
    enquiries (id) {
        id -> BigInt,
        tender_id -> BigInt,
        organisation_id -> BigInt,
        asked_by -> BigInt,
        question -> Text,
        asked_at -> Timestamp,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        answered_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    bids (id) {
        id -> BigInt,
        tender_id -> BigInt,
        organisation_id -> BigInt,
        submitted_by -> BigInt,
        status -> Text,
        submitted_at -> Timestamp,
        idem_key -> Text,
        request_hash -> Text,
        sealed -> Binary,
        seal_nonce -> Binary,
        commitment -> Text,
        opened_json -> Nullable<Text>,
        commit_nonce -> Nullable<Text>,
        price_fen -> Nullable<BigInt>,
        status_reason -> Nullable<Text>,
        commit_scheme -> Integer,
    }
}

diesel::table! {
    panel_members (tender_id, user_id) {
        tender_id -> BigInt,
        user_id -> BigInt,
        added_at -> Timestamp,
        declaration -> Nullable<Text>,
        declaration_note -> Nullable<Text>,
        declared_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        seat -> Text,
    }
}

diesel::table! {
    panel_draws (id) {
        id -> BigInt,
        tender_id -> BigInt,
        drawn_at -> Timestamp,
        seed -> Text,
        candidates -> Text,
        drawn -> Text,
        actor_name -> Text,
    }
}

diesel::table! {
    bid_scores (bid_id, evaluator_id, criterion) {
        bid_id -> BigInt,
        evaluator_id -> BigInt,
        criterion -> Text,
        points_centi -> BigInt,
    }
}

diesel::table! {
    evaluator_links (user_id, organisation_id) {
        user_id -> BigInt,
        organisation_id -> BigInt,
        relation -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    challenges (id) {
        id -> BigInt,
        tender_id -> BigInt,
        organisation_id -> BigInt,
        filed_by -> BigInt,
        grounds -> Text,
        filed_at -> Timestamp,
        answer_due -> Date,
        status -> Text,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        answered_by -> Nullable<BigInt>,
        subject -> Text,
        affects_result -> Bool,
        assessment -> Nullable<Text>,
    }
}

// 竞争性谈判 (migration 2026-12-06-000002_negotiation_rounds).
diesel::table! {
    negotiation_origins (tender_id) {
        tender_id -> BigInt,
        failed_tender_id -> BigInt,
        recorded_at -> Timestamp,
        actor_name -> Text,
    }
}

diesel::table! {
    bid_compliance (bid_id) {
        bid_id -> BigInt,
        tender_id -> BigInt,
        compliant -> Bool,
        reason -> Text,
        decided_by -> BigInt,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    negotiation_rounds (tender_id, round) {
        tender_id -> BigInt,
        round -> Integer,
        #[sql_name = "final"]
        is_final -> Bool,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    negotiation_quotes (bid_id, round) {
        bid_id -> BigInt,
        round -> Integer,
        tender_id -> BigInt,
        price_fen -> Nullable<BigInt>,
        note -> Text,
    }
}

diesel::table! {
    single_source_notices (tender_id) {
        tender_id -> BigInt,
        ground -> Text,
        explanation -> Text,
        notice_starts -> Nullable<Timestamp>,
        notice_ends -> Nullable<Timestamp>,
    }
}

diesel::table! {
    single_source_objections (id) {
        id -> BigInt,
        tender_id -> BigInt,
        organisation_id -> BigInt,
        filed_by -> BigInt,
        reason -> Text,
        filed_at -> Timestamp,
        answer -> Nullable<Text>,
        upheld -> Nullable<Bool>,
        answered_by -> Nullable<BigInt>,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    single_source_records (tender_id) {
        tender_id -> BigInt,
        negotiated_on -> Date,
        place -> Text,
        staff -> Text,
        cost_explanation -> Text,
        terms -> Text,
        price_fen -> BigInt,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

// A winner's refusal to sign (migration 2026-12-06-000005_award_refusals).
diesel::table! {
    award_refusals (bid_id) {
        tender_id -> BigInt,
        bid_id -> BigInt,
        reason -> Text,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(audit_events -> users (actor_id));
diesel::joinable!(communities -> streets (street_id));
diesel::joinable!(organisations -> streets (street_id));
diesel::joinable!(organisation_fields -> organisations (organisation_id));
diesel::joinable!(organisation_terms -> organisations (organisation_id));
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
diesel::joinable!(tender_streets -> tenders (tender_id));
diesel::joinable!(tender_documents -> tenders (tender_id));
diesel::joinable!(tender_streets -> streets (street_id));
diesel::joinable!(tender_events -> tenders (tender_id));
diesel::joinable!(enquiries -> tenders (tender_id));
diesel::joinable!(bids -> tenders (tender_id));
diesel::joinable!(bids -> organisations (organisation_id));
diesel::joinable!(panel_members -> tenders (tender_id));
diesel::joinable!(panel_draws -> tenders (tender_id));
diesel::joinable!(bid_compliance -> bids (bid_id));
diesel::joinable!(award_refusals -> bids (bid_id));
diesel::joinable!(negotiation_quotes -> bids (bid_id));
diesel::joinable!(bid_scores -> bids (bid_id));
diesel::joinable!(challenges -> tenders (tender_id));
diesel::joinable!(single_source_objections -> organisations (organisation_id));
diesel::joinable!(challenges -> organisations (organisation_id));
diesel::joinable!(enquiries -> organisations (organisation_id));
diesel::joinable!(panel_members -> users (user_id));
diesel::joinable!(evaluator_links -> organisations (organisation_id));
diesel::joinable!(revoked_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    revoked_tokens,
    audit_events,
    chain_checkpoints,
    outbox,
    streets,
    communities,
    organisations,
    organisation_fields,
    organisation_terms,
    organisation_areas,
    organisation_ratings,
    organisation_inspections,
    credit_listings,
    bases,
    incubations,
    social_workers,
    social_worker_streets,
    change_requests,
    tenders,
    tender_streets,
    tender_documents,
    tender_events,
    enquiries,
    bids,
    panel_members,
    panel_draws,
    bid_scores,
    challenges,
    evaluator_links,
    negotiation_origins,
    bid_compliance,
    negotiation_rounds,
    negotiation_quotes,
    single_source_notices,
    single_source_objections,
    single_source_records,
    award_refusals
);

// The fund ledger (migration 2026-12-03-000001_ledger).
diesel::table! {
    appropriations (id) {
        id -> BigInt,
        year -> Integer,
        fund -> Text,
        field -> Nullable<Text>,
        amount_fen -> BigInt,
        document_no -> Text,
        note -> Text,
        entry_date -> Date,
        idem_key -> Text,
        request_hash -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (seq) {
        seq -> BigInt,
        entry_date -> Date,
        posted_at -> Timestamp,
        kind -> Text,
        memo -> Text,
        appropriation_id -> Nullable<BigInt>,
        tender_id -> Nullable<BigInt>,
        contract_id -> Nullable<BigInt>,
        instalment_id -> Nullable<BigInt>,
        reverses_seq -> Nullable<BigInt>,
        idem_key -> Text,
        request_hash -> Text,
        author_id -> Nullable<BigInt>,
        author_name -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    ledger_postings (entry_seq, line) {
        entry_seq -> BigInt,
        line -> Integer,
        account -> Text,
        amount_fen -> BigInt,
    }
}

diesel::table! {
    ledger_balances (account) {
        account -> Text,
        balance_fen -> BigInt,
        postings -> BigInt,
        last_seq -> BigInt,
    }
}

diesel::table! {
    tender_funding (tender_id) {
        tender_id -> BigInt,
        appropriation_id -> BigInt,
        named_by -> BigInt,
        named_at -> Timestamp,
    }
}

diesel::joinable!(ledger_postings -> ledger_entries (entry_seq));
diesel::allow_tables_to_appear_in_same_query!(
    appropriations,
    ledger_entries,
    ledger_postings,
    ledger_balances,
    tender_funding,
    users
);

// Contracts, payments and spending (migration 2026-12-03-000003_contracts).
diesel::table! {
    contracts (id) {
        id -> BigInt,
        tender_id -> BigInt,
        bid_id -> BigInt,
        organisation_id -> BigInt,
        appropriation_id -> Nullable<BigInt>,
        contract_no -> Text,
        title -> Text,
        amount_fen -> BigInt,
        term_start -> Date,
        term_end -> Date,
        budget_lines -> Text,
        targets -> Text,
        state -> Text,
        awarded_on -> Date,
        signed_on -> Nullable<Date>,
        notice_on -> Nullable<Date>,
        signed_by -> Nullable<BigInt>,
        end_reason -> Nullable<Text>,
        ended_on -> Nullable<Date>,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contract_instalments (id) {
        id -> BigInt,
        contract_id -> BigInt,
        no -> Integer,
        milestone -> Text,
        pct -> Text,
        amount_fen -> BigInt,
        on_signing -> Bool,
        accepted_on -> Nullable<Date>,
        score -> Nullable<Text>,
        grade -> Nullable<Text>,
        evaluator -> Nullable<Text>,
        report_sha256 -> Nullable<Text>,
        accepted_by -> Nullable<BigInt>,
        accepted_at -> Nullable<Timestamp>,
        performance -> Nullable<Text>,
    }
}

diesel::table! {
    payments (id) {
        id -> BigInt,
        contract_id -> BigInt,
        instalment_id -> BigInt,
        amount_fen -> BigInt,
        voucher_no -> Text,
        paid_on -> Date,
        idem_key -> Text,
        request_hash -> Text,
        ledger_seq -> BigInt,
        paid_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    spending_items (id) {
        id -> BigInt,
        contract_id -> BigInt,
        line -> Text,
        spent_on -> Date,
        amount_fen -> BigInt,
        invoice_no -> Text,
        invoice_key -> Text,
        payee -> Text,
        description -> Text,
        evidence_sha256 -> Nullable<Text>,
        state -> Text,
        review_note -> Nullable<Text>,
        reviewed_by -> Nullable<BigInt>,
        reviewed_at -> Nullable<Timestamp>,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(contracts -> tenders (tender_id));
diesel::joinable!(contracts -> organisations (organisation_id));
diesel::joinable!(contract_instalments -> contracts (contract_id));
diesel::joinable!(payments -> contract_instalments (instalment_id));
diesel::joinable!(spending_items -> contracts (contract_id));
diesel::allow_tables_to_appear_in_same_query!(
    contracts,
    contract_instalments,
    payments,
    spending_items
);
diesel::allow_tables_to_appear_in_same_query!(contracts, tenders);
diesel::allow_tables_to_appear_in_same_query!(contracts, organisations);
diesel::allow_tables_to_appear_in_same_query!(contracts, tender_streets);
diesel::allow_tables_to_appear_in_same_query!(spending_items, organisations);
diesel::allow_tables_to_appear_in_same_query!(spending_items, tenders);
diesel::allow_tables_to_appear_in_same_query!(contracts, appropriations);
diesel::allow_tables_to_appear_in_same_query!(payments, appropriations);

diesel::table! {
    organisation_links (organisation_a, organisation_b) {
        organisation_a -> BigInt,
        organisation_b -> BigInt,
        kind -> Text,
        note -> Text,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(organisation_links, organisations);
diesel::allow_tables_to_appear_in_same_query!(organisation_links, users);

// People served (migration 2026-12-07-000001_people_served).
diesel::table! {
    people (id) {
        id -> BigInt,
        id_hash -> Nullable<Text>,
    }
}

diesel::table! {
    beneficiaries (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        person_id -> BigInt,
        pseudonym -> Text,
        identified -> Bool,
        grp -> Text,
        gender -> Text,
        birth_year -> Nullable<Integer>,
        community_id -> BigInt,
        name -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    activities (id) {
        id -> BigInt,
        contract_id -> BigInt,
        organisation_id -> BigInt,
        held_on -> Date,
        kind -> Text,
        community_id -> BigInt,
        street_id -> BigInt,
        field -> Text,
        minutes -> Integer,
        title -> Text,
        registered -> Integer,
        anonymous -> Integer,
        volunteers -> Integer,
        volunteer_minutes -> Integer,
        evidence_sha256 -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    participations (activity_id, beneficiary_id) {
        activity_id -> BigInt,
        beneficiary_id -> BigInt,
        person_id -> BigInt,
        contract_id -> BigInt,
        organisation_id -> BigInt,
        community_id -> BigInt,
        street_id -> BigInt,
        field -> Text,
        grp -> Text,
        month -> Integer,
    }
}

diesel::table! {
    reach_counts (scope, dim, dim_key, month) {
        scope -> BigInt,
        dim -> Text,
        dim_key -> Text,
        month -> Integer,
        registered -> BigInt,
        anonymous -> BigInt,
        activities -> BigInt,
        volunteers -> BigInt,
        volunteer_minutes -> BigInt,
    }
}

diesel::table! {
    reach_people (scope, dim, dim_key, month, chunk) {
        scope -> BigInt,
        dim -> Text,
        dim_key -> Text,
        month -> Integer,
        chunk -> Integer,
        people -> Binary,
    }
}

diesel::table! {
    report_texts (report, period_key) {
        report -> Text,
        period_key -> Text,
        problems -> Text,
        next_steps -> Text,
        updated_by -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    satisfaction_surveys (id) {
        id -> BigInt,
        contract_id -> BigInt,
        surveyed_on -> Date,
        n1 -> Integer,
        n2 -> Integer,
        n3 -> Integer,
        n4 -> Integer,
        n5 -> Integer,
        note -> Text,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(beneficiaries -> people (person_id));
diesel::joinable!(beneficiaries -> communities (community_id));
diesel::joinable!(activities -> contracts (contract_id));
diesel::joinable!(activities -> communities (community_id));
diesel::joinable!(participations -> activities (activity_id));
diesel::joinable!(participations -> beneficiaries (beneficiary_id));
diesel::joinable!(satisfaction_surveys -> contracts (contract_id));
diesel::allow_tables_to_appear_in_same_query!(
    people,
    beneficiaries,
    activities,
    participations,
    satisfaction_surveys
);
diesel::allow_tables_to_appear_in_same_query!(people, contracts);
diesel::allow_tables_to_appear_in_same_query!(people, communities);
diesel::allow_tables_to_appear_in_same_query!(people, streets);
diesel::allow_tables_to_appear_in_same_query!(people, organisations);
diesel::allow_tables_to_appear_in_same_query!(people, tender_streets);
diesel::allow_tables_to_appear_in_same_query!(people, tenders);
diesel::allow_tables_to_appear_in_same_query!(people, users);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, contracts);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, communities);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, streets);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, organisations);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, tender_streets);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, tenders);
diesel::allow_tables_to_appear_in_same_query!(beneficiaries, users);
diesel::allow_tables_to_appear_in_same_query!(activities, contracts);
diesel::allow_tables_to_appear_in_same_query!(activities, communities);
diesel::allow_tables_to_appear_in_same_query!(activities, streets);
diesel::allow_tables_to_appear_in_same_query!(activities, organisations);
diesel::allow_tables_to_appear_in_same_query!(activities, tender_streets);
diesel::allow_tables_to_appear_in_same_query!(activities, tenders);
diesel::allow_tables_to_appear_in_same_query!(activities, users);
diesel::allow_tables_to_appear_in_same_query!(participations, contracts);
diesel::allow_tables_to_appear_in_same_query!(participations, communities);
diesel::allow_tables_to_appear_in_same_query!(participations, streets);
diesel::allow_tables_to_appear_in_same_query!(participations, organisations);
diesel::allow_tables_to_appear_in_same_query!(participations, tender_streets);
diesel::allow_tables_to_appear_in_same_query!(participations, tenders);
diesel::allow_tables_to_appear_in_same_query!(participations, users);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, contracts);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, communities);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, streets);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, organisations);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, tender_streets);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, tenders);
diesel::allow_tables_to_appear_in_same_query!(satisfaction_surveys, users);

diesel::table! {
    files (id) {
        id -> BigInt,
        sha256 -> Text,
        name -> Text,
        kind -> Text,
        size -> BigInt,
        purpose -> Text,
        record_id -> BigInt,
        uploaded_by -> BigInt,
        uploaded_at -> Timestamp,
    }
}

diesel::joinable!(files -> users (uploaded_by));
diesel::allow_tables_to_appear_in_same_query!(files, users);
