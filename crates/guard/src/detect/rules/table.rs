//! The rule list (see the parent module for how rules count).

use super::{Kind, Pattern, Rule};

/// The rules, in the order of their regression inputs (a model records their names and is
/// refused by a build whose list differs).
pub const RULES: &[Rule] = &[
    Rule {
        name: "ovr_en",
        kind: Kind::Override,
        or_set: false,
        pattern: Pattern::Re(
            r#"\b(ignore|disregard|forget|skip|bypass|override|overlook|neglect|discard|drop|abandon|dismiss)\b.{0,40}\b(previous|prior|above|earlier|preceding|former|original|initial|all|any|every|your|the|these|those|system|old)\b.{0,30}\b(instruction|instructions|rule|rules|prompt|prompts|direction|directions|guideline|guidelines|command|commands|context|constraint|constraints|restriction|restrictions|programming|directive|directives|text|message|messages|orders|policy|policies|training|guardrails?)\b"#,
        ),
    },
    Rule {
        name: "ovr_en2",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignore|disregard|forget)\b (everything|all|anything|what) (above|before|previously|prior|you (were|have been) told)"#,
        ),
    },
    Rule {
        name: "new_instr",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(new|updated|real|actual|true|revised|following) (instructions?|rules|task|directive|orders|system prompt)\s*(:|are|is)"#,
        ),
    },
    Rule {
        name: "instead",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\binstead,? (you (will|must|should)|say|print|output|respond|reply|write)\b"#,
        ),
    },
    Rule {
        name: "extract_en",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(reveal|print|show|repeat|output|display|tell me|give me|write( out)?|list|dump|leak|spell out|recite|share|expose|return|echo|state|provide|paste|copy|translate|summari[sz]e)\b.{0,40}\b(system prompt|your (instructions|prompt|rules|guidelines|directives|programming|initial prompt|system message|configuration|context|secret|password)|(initial|original|hidden|secret|previous|pre|above|prior|full|entire|complete) (prompt|instructions|text|message|rules|password|key)|the (text|words|instructions|content) above|everything (above|before)|pre-?prompt|access code|passcode|password)"#,
        ),
    },
    Rule {
        name: "extract_q",
        kind: Kind::Extraction,
        or_set: false,
        pattern: Pattern::Re(
            r#"\bwhat (is|are|was|were) (your|the) (system prompt|instructions|initial instructions|rules|password|secret|passcode|access code|hidden|original prompt|prompt)\b"#,
        ),
    },
    Rule {
        name: "above",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(everything|all|text|words|content|instructions) (above|before) (this|here|the)\b"#,
        ),
    },
    Rule {
        name: "verbatim",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(verbatim|word for word|word-for-word|letter by letter|character by character)\b"#,
        ),
    },
    Rule {
        name: "say_exact",
        kind: Kind::ForcedOutput,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(say|print|output|respond with|reply with|answer with|write|return)\b.{0,20}\b(exactly|only|just|nothing but|nothing else|the (phrase|words?|string|sentence))\b"#,
        ),
    },
    Rule {
        name: "begin_with",
        kind: Kind::ForcedOutput,
        or_set: false,
        pattern: Pattern::Re(
            r#"\b(begin|start|prefix|preface|end) (your|the|each|every) (response|reply|answer|output|message)s? with\b"#,
        ),
    },
    Rule {
        name: "quote_say",
        kind: Kind::ForcedOutput,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(say|print|output|write|respond|reply|(respond|reply|answer) with)\s*:?\s*["'“‘]"#,
        ),
    },
    Rule {
        name: "role_tag",
        kind: Kind::RoleSmuggling,
        or_set: true,
        pattern: Pattern::Re(
            r#"(^|[\s\[\(<#\|])(system|assistant|user|human|ai|developer|admin|root)\s*[:\]>]\s"#,
        ),
    },
    Rule {
        name: "chat_tok",
        kind: Kind::RoleSmuggling,
        or_set: true,
        pattern: Pattern::Re(
            r#"(<\|?(im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|?>|\[/?inst\]|<</?sys>>|<s>|</s>|\[/?system\]|###\s*(instruction|system|response|human|assistant))"#,
        ),
    },
    Rule {
        name: "you_are_now",
        kind: Kind::ModeSwitch,
        or_set: true,
        pattern: Pattern::Re(r#"\byou are now\b|\bfrom now on\b|\bhenceforth\b|\bstarting now\b"#),
    },
    Rule {
        name: "pretend",
        kind: Kind::ModeSwitch,
        or_set: false,
        pattern: Pattern::Re(
            r#"\b(pretend|act|behave|roleplay|role-play|play the role)\b.{0,15}\b(you are|to be|as if|as an?|like an?)\b"#,
        ),
    },
    Rule {
        name: "mode",
        kind: Kind::ModeSwitch,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(developer|debug|god|admin|maintenance|unrestricted|jailbreak|jailbroken|dan|sudo|root|unfiltered|evil) mode\b"#,
        ),
    },
    Rule {
        name: "no_rules",
        kind: Kind::ModeSwitch,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(no|without|free from|free of|not bound by|ignore all) (restrictions|rules|filters|limitations|guidelines|censorship|ethical|morals|boundaries)\b"#,
        ),
    },
    Rule {
        name: "dan",
        kind: Kind::ModeSwitch,
        or_set: false,
        pattern: Pattern::Re(r#"\b(dan|stan|dude|aim|jailbreak|jailbroken)\b"#),
    },
    Rule {
        name: "delim_run",
        kind: Kind::RoleSmuggling,
        or_set: true,
        pattern: Pattern::Re(
            r#"={6,}|-{6,}|_{6,}|\*{6,}|#{6,}|~{6,}|%{6,}|<{6,}|>{6,}|\]{6,}|\[{6,}|\}{6,}|\{{6,}|\|{6,}|/{6,}|\\{6,}"#,
        ),
    },
    Rule {
        name: "end_ctx",
        kind: Kind::RoleSmuggling,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(end|stop|close) (of )?(the )?(user |system )?(input|prompt|instructions|context|ambiguity|conversation|document|text|message|session)\b"#,
        ),
    },
    Rule {
        name: "important",
        kind: Kind::RoleSmuggling,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(important|attention|urgent|note to (the )?(ai|assistant|model|llm)|admin override|system override|system message|system notice|system update)\b\s*[:!]"#,
        ),
    },
    Rule {
        name: "ovr_sv",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignorera|glöm|strunta i|bortse från|åsidosätt)\b.{0,40}\b(instruktioner|instruktionerna|regler|reglerna|tidigare|ovan|föregående|allt)\b"#,
        ),
    },
    Rule {
        name: "ext_sv",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(visa|skriv ut|upprepa|avslöja|berätta)\b.{0,30}\b(systemprompt|instruktioner|lösenord|prompten|dina regler)\b"#,
        ),
    },
    Rule {
        name: "ovr_de",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignoriere|ignorieren|vergiss|vergessen|missachte|übergehe)\b.{0,40}\b(anweisungen|anweisung|regeln|vorherigen|bisherigen|obigen|alles|instruktionen)\b"#,
        ),
    },
    Rule {
        name: "ext_de",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(zeige|zeig|gib|wiederhole|verrate|nenne)\b.{0,30}\b(systemprompt|anweisungen|passwort|prompt|regeln)\b"#,
        ),
    },
    Rule {
        name: "ovr_fr",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignore[rz]|ignorez|oublie[rz]?|ne tiens pas compte|ne tenez pas compte)\b.{0,40}\b(instructions|consignes|règles|précédentes|ci-dessus|tout)\b|\bignore (toutes? )?(les|tes|vos) (instructions|consignes|règles)"#,
        ),
    },
    Rule {
        name: "ext_fr",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(montre|affiche|révèle|répète|donne)\b.{0,30}\b(prompt|instructions|consignes|mot de passe)\b"#,
        ),
    },
    Rule {
        name: "ovr_es",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignora|olvida|olvide|descarta|omite)\b.{0,40}\b(instrucciones|reglas|anteriores|previas|todo)\b"#,
        ),
    },
    Rule {
        name: "ext_es",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(muestra|revela|repite|dime|imprime)\b.{0,30}\b(prompt|instrucciones|reglas|contraseña)\b"#,
        ),
    },
    Rule {
        name: "b64",
        kind: Kind::Obfuscation,
        or_set: false,
        pattern: Pattern::Re(r#"[a-z0-9+/]{32,}={0,2}"#),
    },
    Rule {
        name: "hex",
        kind: Kind::Obfuscation,
        or_set: true,
        pattern: Pattern::Re(r#"(?:\\x[0-9a-f]{2}){4,}|\b(?:[0-9a-f]{2}[ :]?){16,}\b"#),
    },
    Rule {
        name: "decode",
        kind: Kind::Obfuscation,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(decode|decrypt|base64|rot13|hex|reverse|backwards|cipher|unscramble)\b.{0,30}\b(and|then)\b.{0,20}\b(follow|execute|run|do|obey|perform|answer|respond)\b"#,
        ),
    },
    Rule {
        name: "repeat_prompt",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(repeat|rewrite|restate|reprint|paraphrase|summari[sz]e|translate|convert|encode|format|output|print)\b.{0,40}\b(above|previous|prior|preceding|earlier|everything|instructions|prompt|rules|so far)\b"#,
        ),
    },
    Rule {
        name: "so_far",
        kind: Kind::Extraction,
        or_set: false,
        pattern: Pattern::Re(r#"\b(so far|up to this point|until now|thus far|up until now)\b"#),
    },
    Rule {
        name: "password",
        kind: Kind::Extraction,
        or_set: false,
        pattern: Pattern::Re(
            r#"\b(password|passcode|pass code|access code|secret (key|code|word|phrase)|passphrase|pass phrase)\b"#,
        ),
    },
    Rule {
        name: "respond_only",
        kind: Kind::ForcedOutput,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(respond|reply|answer|output|print|say)\b.{0,25}\bonly\b|\bonly (respond|reply|answer|output|print|say)\b"#,
        ),
    },
    Rule {
        name: "do_not",
        kind: Kind::ForcedOutput,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(do not|don't|dont|never) (say|mention|include|add|explain|refuse|apologi[sz]e|write anything|output anything|print anything|reveal that|tell)\b"#,
        ),
    },
    Rule {
        name: "your_role",
        kind: Kind::Override,
        or_set: false,
        pattern: Pattern::Re(
            r#"\byour (new )?(role|task|job|goal|purpose|objective|instructions?|mission|directive) (is|are|now|has changed)\b"#,
        ),
    },
    Rule {
        name: "as_ai",
        kind: Kind::ModeSwitch,
        or_set: false,
        pattern: Pattern::Re(
            r#"\b(as an ai|language model|llm|chatgpt|gpt-?[345]|openai|anthropic|claude|the assistant|the ai|the model|the bot)\b"#,
        ),
    },
    Rule {
        name: "code_extract",
        kind: Kind::Extraction,
        or_set: false,
        pattern: Pattern::Re(
            r#"\b(write|convert|output|print|format|put)\b.{0,30}\b(python|code|json|markdown|poem|story|list|bullet|table|acrostic)\b.{0,40}\b(prompt|instructions|password|above|rules)\b"#,
        ),
    },
    Rule {
        name: "sentinel",
        kind: Kind::RoleSmuggling,
        or_set: true,
        pattern: Pattern::Re(
            r#"[\[\(<\{]\s*/?\s*(end|begin|start|stop|system|admin|instructions?|user|assistant|input|output)\b"#,
        ),
    },
    Rule {
        name: "repeat_char",
        kind: Kind::Obfuscation,
        or_set: false,
        pattern: Pattern::RepeatChar,
    },
    Rule {
        name: "repeat_tok",
        kind: Kind::Obfuscation,
        or_set: true,
        pattern: Pattern::RepeatToken,
    },
    Rule {
        name: "you_must",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\byou (must|will|shall|have to|need to|are required to|are obligated to) (now )?(ignore|obey|follow|comply|answer|respond|say|print|output|reveal|forget)\b"#,
        ),
    },
    Rule {
        name: "bypass",
        kind: Kind::ModeSwitch,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(bypass|circumvent|disable|turn off|deactivate|remove|override)\b.{0,25}\b(filter|filters|safety|safeguards?|restrictions?|guardrails?|censorship|moderation|security|protections?|rules)\b"#,
        ),
    },
    Rule {
        name: "ovr_ru",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(игнорируй|игнорировать|проигнорируй|забудь|забудьте|игнорируйте)\b.{0,40}\b(инструкци[^ ]*|правила|указания|предыдущи[^ ]*|все)"#,
        ),
    },
    Rule {
        name: "ovr_zh",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"(忽略|忘记|无视|不要理会|忽視|無視).{0,10}(之前|以上|上面|所有|先前|前面).{0,10}(指令|指示|规则|命令|提示|說明)"#,
        ),
    },
    Rule {
        name: "ovr_it_pt",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignora|dimentica|ignore|esqueça|esqueca|desconsidere)\b.{0,40}\b(istruzioni|regole|precedenti|instruções|instrucoes|regras|anteriores)\b"#,
        ),
    },
    // The assistant's own instructions, named as such: the object of every prompt-extraction
    // attack, whatever the verb or the creative disguise ("write a poem about your
    // instructions"). Each has a training-set precision of at least 0.97.
    Rule {
        name: "self_instr",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\byour ([a-z0-9_]+ ){0,2}(instructions?|prompt|system message|ruleset|directives|programming)\b"#,
        ),
    },
    Rule {
        name: "given_instr",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(instructions?|prompt|rules) (you (were|have been|'ve been|are) (given|told|provided)|so far|above|given to you)\b"#,
        ),
    },
    Rule {
        name: "last_prompt",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(your|the) (last|previous|initial|original|first|system|hidden|secret) (prompt|instructions?)\b"#,
        ),
    },
    // Asking for the secret a system prompt guards, in any wrapping ("include the password in
    // your poem"); training-set precision 1.0 over 20 hits.
    Rule {
        name: "secret_out",
        kind: Kind::Extraction,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(include|append|add|reveal|tell|give|write|spell|print|say|share|insert|output|show|type|state|disclose|leak)\b.{0,30}\b(the|your) (password|passcode|access code|secret (key|code|word|phrase)|passphrase|pass phrase)\b"#,
        ),
    },
    // Overrides narrower than ovr_en, each with a training-set precision of at least 0.98:
    // earlier instructions named as earlier, rules to be forgotten, instructions not to be
    // followed.
    Rule {
        name: "ovr_prev",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(ignore|disregard|forget|overlook|discard|dismiss)\b.{0,30}\b(previous|prior|above|earlier|preceding|former|original|initial|system)\b.{0,20}\b(instructions?|rules|prompts?|directions|guidelines|commands|orders|directives|messages?|context)\b"#,
        ),
    },
    Rule {
        name: "forgot_rules",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(forget|forgotten|forgot|unlearn)\b.{0,20}\b(the|your|all|any)\b.{0,10}\b(rules|instructions|guidelines|training|programming)\b"#,
        ),
    },
    Rule {
        name: "dont_follow",
        kind: Kind::Override,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(do not|don't|dont|stop|no longer) (listen to|follow|obey|adhere to|comply with|respect)\b.{0,20}\b(previous|prior|above|earlier|any|your|the|those)\b.{0,20}\b(instructions?|rules|information|guidelines|orders|directives|prompt)\b"#,
        ),
    },
    // The answer's form dictated down to the word, training-set precision 1.0 each.
    Rule {
        name: "no_comment",
        kind: Kind::ForcedOutput,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(without|no) (any )?(commentary|explanation|explanations|comments?|elaboration|extra text|additional text)\b"#,
        ),
    },
    Rule {
        name: "nothing_but",
        kind: Kind::ForcedOutput,
        or_set: true,
        pattern: Pattern::Re(
            r#"\b(include|write|output|respond with|reply with|answer with|return|print|say) (nothing but|nothing else|only the)\b"#,
        ),
    },
];
