# Inputs. Only `prefix` and `admin_api_principal_arns` have no default: bucket names are global across all of AWS,
# and who may administer the model is a decision, not a default. Copy terraform.tfvars.example to start.

variable "region" {
  description = "AWS region for every resource (buckets, function, repository, logs). The admin API's AWS_REGION must match."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1 or eu-west-3."
  }
}

variable "prefix" {
  description = "Name prefix of every resource: buckets <prefix>-input, <prefix>-models, <prefix>-output, function, repository and roles <prefix>-inference / <prefix>-admin-api. S3 bucket names are global across all AWS accounts, so include something unique to you (for example modelpin-acme-prod)."
  type        = string

  validation {
    # Lowercase letters, digits and hyphens, 3 to 40 characters: the longest bucket name (<prefix>-output) stays
    # within S3's 63 characters and the role names within IAM's 64.
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.prefix)) && !strcontains(var.prefix, "--")
    error_message = "prefix must be 3 to 40 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over the default project and prefix tags."
  type        = map(string)
  default     = {}
}

variable "image_uri" {
  description = "The function image by digest: <registry>/<repository>@sha256:<64 hex digits>, usually <ecr_repository_url>@<digest> as the deploy steps in infra/README.md resolve it after the push. A digest, never a tag: the code a published Lambda version runs is then one exact image. Empty only for the first, -target step of the first apply (the function's precondition refuses it otherwise)."
  type        = string
  default     = ""

  validation {
    # Lambda runs images from ECR only; the digest is sha256 in lowercase hex.
    condition     = var.image_uri == "" || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.image_uri))
    error_message = "image_uri must be an ECR image by digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo@sha256:<64 hex digits> (not a :tag)."
  }
}

variable "ecr_images_kept" {
  description = "How many images the ECR repository keeps (the newest; untagged ones expire after 7 days). A rollback moves the alias back to a published version, which needs its image: keep this above the number of images pushed over the span of releases you may roll back to."
  type        = number
  default     = 100

  validation {
    condition     = var.ecr_images_kept >= 10 && floor(var.ecr_images_kept) == var.ecr_images_kept
    error_message = "ecr_images_kept must be a whole number, at least 10."
  }
}

# Sizing. The benchmark goal is two ResNet-50 versions cached in at most 1024 MB peak RSS: one for the live release
# and one for a canary or a per-request pin. 2048 MB leaves room above that for a third load in flight while the
# LRU evicts, for sharp's decode buffers and for the Node.js heap, and Lambda gives CPU in proportion to memory
# (one full vCPU at 1769 MB): a cold load (downloading ~100 MB of weights and creating the ONNX Runtime session,
# 0.25-1.1 s of CPU on a desktop core) and each inference run close to twice as fast as at the original 1024 MB,
# so the cost per image stays about the same while latency halves.
variable "memory_size" {
  description = "Function memory in MB (also sets its CPU share). Default 2048: two cached ResNet-50 versions fit in 1024 MB (benchmark goal peak_rss_mb_two_models), and the rest is headroom for a load in flight plus more than one vCPU for faster cold loads and inference; the original system ran in 1024 MB."
  type        = number
  default     = 2048

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240 (Lambda's limits)."
  }
}

# The slowest legitimate invocation is a cold one that loads two model versions (the configuration's pin and an
# event's or an input object's own pin): a few seconds each for ~100 MB from S3 plus session creation, then one
# image in well under a second. 30 s (the original system's value) covers that several times over; a longer
# timeout would only delay Lambda's retry of a stuck S3 event.
variable "timeout" {
  description = "Function timeout in seconds. Default 30 (the original system's value): a cold invocation loading two ~100 MB model versions takes a few seconds each, one image well under a second."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900 (Lambda's limit)."
  }
}

variable "log_retention_days" {
  description = "Days the function's CloudWatch logs are kept (one of CloudWatch's allowed values; 0 keeps them forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "model_name" {
  description = "Name of the model in the modelpin registry (used in the model_registration output, the body of POST /v1/models)."
  type        = string
  default     = "resnet50"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.model_name))
    error_message = "model_name must be lowercase letters, digits and hyphens, at most 63 characters."
  }
}

variable "model_weights_key" {
  description = "S3 key of the ONNX weights in the model bucket. The function may read this key (at any version) and no other."
  type        = string
  default     = "resnet50/model.onnx"

  validation {
    condition     = length(var.model_weights_key) > 0 && !startswith(var.model_weights_key, "/") && !strcontains(var.model_weights_key, "*")
    error_message = "model_weights_key must be a non-empty S3 key without a leading slash or a *."
  }
}

variable "model_labels_key" {
  description = "S3 key of the labels file (one label per line) in the model bucket. The function may read this key (at any version) and no other."
  type        = string
  default     = "resnet50/labels.txt"

  validation {
    condition     = length(var.model_labels_key) > 0 && !startswith(var.model_labels_key, "/") && !strcontains(var.model_labels_key, "*")
    error_message = "model_labels_key must be a non-empty S3 key without a leading slash or a *."
  }
}

variable "model_weights_version_id" {
  description = "First pin: S3 VersionId of the weights the function serves after the first apply. Empty: the function refuses to serve (and says why) until modelpin promotes a release. Ignored after the first apply: modelpin owns the pins."
  type        = string
  default     = ""
}

variable "model_labels_version_id" {
  description = "First pin: S3 VersionId of the labels the function serves after the first apply. Empty: the function refuses to serve until modelpin promotes a release. Ignored after the first apply: modelpin owns the pins."
  type        = string
  default     = ""
}

variable "model_weights_sha256" {
  description = "First pin, optional: lowercase hex sha256 of the pinned weights; when set, the function verifies the bytes it loads. Ignored after the first apply."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{64})?$", var.model_weights_sha256))
    error_message = "model_weights_sha256 must be empty or 64 lowercase hex characters."
  }
}

variable "model_labels_sha256" {
  description = "First pin, optional: lowercase hex sha256 of the pinned labels; when set, the function verifies the bytes it loads. Ignored after the first apply."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{64})?$", var.model_labels_sha256))
    error_message = "model_labels_sha256 must be empty or 64 lowercase hex characters."
  }
}

variable "output_prefix" {
  description = "Key prefix of the prediction objects in the output bucket (<prefix><input key>.json); the function may write under it and nowhere else. Empty: the bucket's root."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.output_prefix, "/") && !strcontains(var.output_prefix, "*")
    error_message = "output_prefix must not start with a slash or contain a *."
  }
}

variable "function_environment" {
  description = "Extra environment variables of the function (for example the model cache limits), set on the first apply like the pins. They may not name a pin variable: the pin variables come from the model_* variables."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection(keys(var.function_environment), [
      "MODEL_BUCKET", "MODEL_WEIGHTS_KEY", "MODEL_LABELS_KEY", "MODEL_WEIGHTS_VERSION_ID", "MODEL_LABELS_VERSION_ID",
      "MODEL_WEIGHTS_SHA256", "MODEL_LABELS_SHA256", "OUTPUT_BUCKET", "OUTPUT_PREFIX",
    ])) == 0
    error_message = "function_environment must not set a pin or output variable (MODEL_*, OUTPUT_BUCKET, OUTPUT_PREFIX): use the model_* and output_prefix variables."
  }
}

variable "warmup_enabled" {
  description = "Invoke the live alias with {\"warmup\": true} every minute (EventBridge's minimum rate), so one environment keeps the pinned model loaded. Cheap; turn it off when provisioned_concurrency is used instead."
  type        = bool
  default     = true
}

variable "provisioned_concurrency" {
  description = "Provisioned concurrency on the live alias: environments kept initialised at all times (billed while idle). 0 (the default) provisions none and relies on the warm-up rule; set it when cold starts must never reach a caller."
  type        = number
  default     = 0

  validation {
    condition     = var.provisioned_concurrency >= 0 && floor(var.provisioned_concurrency) == var.provisioned_concurrency
    error_message = "provisioned_concurrency must be a whole number, 0 or more."
  }
}

variable "admin_api_principal_arns" {
  description = "IAM principal ARNs (users or roles, for example the admin API's ECS task role or an operator role) allowed to assume the admin API role. The role can list, read and upload model versions and move the function's versions and alias."
  type        = list(string)

  validation {
    condition     = length(var.admin_api_principal_arns) > 0 && alltrue([for arn in var.admin_api_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|(user|role)/.+)$", arn))])
    error_message = "admin_api_principal_arns must list at least one IAM ARN (arn:aws:iam::<account>:root, :user/... or :role/...)."
  }
}

variable "model_bucket_break_glass_principal_arns" {
  description = "IAM principal ARNs (besides the account root user) allowed to delete object versions, change versioning or lifecycle on the model bucket. Everyone else is denied, so a released model's weights cannot be lost by accident. Empty: only the root user."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.model_bucket_break_glass_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+$", arn))])
    error_message = "model_bucket_break_glass_principal_arns must be IAM user or role ARNs."
  }
}

variable "evaluation_input_buckets" {
  description = "Buckets (names) that evaluations read inputs from besides the input bucket: the admin API role may list them (s3:ListBucket) and the function's role read their objects (s3:GetObject, s3:GetObjectVersion). Empty: evaluations read the input bucket only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.evaluation_input_buckets : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", name))])
    error_message = "evaluation_input_buckets must be S3 bucket names (3 to 63 lowercase letters, digits, dots and hyphens; no ARN, no wildcard)."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when the failed-events alarm fires and when it clears (for example an SNS topic that pages someone). Empty: the alarm shows in CloudWatch only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_actions : startswith(arn, "arn:")])
    error_message = "alarm_actions must be ARNs (for example arn:aws:sns:us-east-1:123456789012:oncall)."
  }
}
