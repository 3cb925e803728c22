# The repository the function image is pushed to (from lambda/Dockerfile; see README.md, "Deploy to AWS").
resource "aws_ecr_repository" "function" {
  name = local.function_name
  # A tag names one image forever (the deploy steps tag each build with its commit), and the function is given the
  # image by digest anyway (var.image_uri): what a published Lambda version runs can be traced back to one build.
  image_tag_mutability = "IMMUTABLE"
  # A repository with images in it is not destroyed by accident.
  force_delete = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# Every published Lambda version runs the image digest it was published with, and a rollback moves the alias back to
# such a version, so an image may only expire once no release a rollback could reach uses it. Untagged images are
# never deployed (each push carries a commit tag, and tags are immutable: an image is untagged only when a push broke
# off or someone removed its tag), so they go after a week; of the rest, the newest `ecr_images_kept` stay.
locals {
  ecr_lifecycle_policy = {
    rules = [
      {
        rulePriority = 1
        description  = "Untagged images (a push that broke off): never deployed"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest images; older ones are past every release a rollback can reach"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_images_kept
        }
        action = { type = "expire" }
      },
    ]
  }
}

resource "aws_ecr_lifecycle_policy" "function" {
  repository = aws_ecr_repository.function.name
  policy     = jsonencode(local.ecr_lifecycle_policy)
}
